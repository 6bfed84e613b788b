//! Stage 7: clusters. Joins verified pairs and exact-duplicate groups with a union-find into
//! connected components, orders them canonically, and picks the document each cluster keeps.
//!
//! Canonical order makes reports independent of thread count and of the order pairs arrived in:
//! members sorted by document index, clusters by size (largest first) then by first member.
//!
//! This stage sees document indices and sizes only; it must not see files or text.

/// Union-find over `0..n` with path halving and union by size.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns false when they were already one.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// All sets of two or more elements, each sorted, in canonical order (largest first, then
    /// by smallest element).
    pub fn components(&mut self) -> Vec<Vec<u32>> {
        let n = self.parent.len();
        let mut by_root: rustc_hash::FxHashMap<u32, Vec<u32>> = Default::default();
        for x in 0..n as u32 {
            let r = self.find(x);
            if self.size[r as usize] > 1 {
                by_root.entry(r).or_default().push(x);
            }
        }
        let mut comps: Vec<Vec<u32>> = by_root.into_values().collect();
        comps.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        comps
    }
}

/// Which member of a cluster survives a cleanup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepPolicy {
    /// The first document in input order.
    First,
    /// The last document in input order.
    Last,
    /// The longest document in bytes (ties: the first). A scan ranks documents by their size
    /// once their repeats of their own passages are cut, so a body pasted twice does not win.
    Longest,
    /// The shortest document in bytes (ties: the first), ranked as for `Longest`.
    Shortest,
}

/// Picks the kept member of a sorted, non-empty cluster. `bytes[doc]` is the size ranked.
pub fn choose_kept(members: &[u32], bytes: &[u64], policy: KeepPolicy) -> u32 {
    let size = |d: &u32| bytes[*d as usize];
    // `members` is sorted, and min_by_key / max_by_key pick the first / last of equals, so
    // reverse for max to keep the earliest document on ties.
    match policy {
        KeepPolicy::First => members[0],
        KeepPolicy::Last => members[members.len() - 1],
        KeepPolicy::Shortest => *members.iter().min_by_key(|d| size(d)).expect("non-empty"),
        KeepPolicy::Longest => *members
            .iter()
            .rev()
            .max_by_key(|d| size(d))
            .expect("non-empty"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Components by breadth-first search, the oracle for the union-find.
    fn bfs_components(n: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
        let mut adj = vec![Vec::new(); n];
        for &(a, b) in edges {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
        let mut seen = vec![false; n];
        let mut comps = Vec::new();
        for s in 0..n {
            if seen[s] {
                continue;
            }
            seen[s] = true;
            let mut comp = vec![s as u32];
            let mut queue = std::collections::VecDeque::from([s]);
            while let Some(x) = queue.pop_front() {
                for &y in &adj[x] {
                    if !seen[y as usize] {
                        seen[y as usize] = true;
                        comp.push(y);
                        queue.push_back(y as usize);
                    }
                }
            }
            if comp.len() > 1 {
                comp.sort_unstable();
                comps.push(comp);
            }
        }
        comps.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        comps
    }

    proptest! {
        #[test]
        fn union_find_equals_bfs_components(
            n in 1usize..60,
            raw in proptest::collection::vec((0u32..60, 0u32..60), 0..80),
        ) {
            let edges: Vec<(u32, u32)> = raw
                .into_iter()
                .map(|(a, b)| (a % n as u32, b % n as u32))
                .collect();
            let mut uf = UnionFind::new(n);
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            prop_assert_eq!(uf.components(), bfs_components(n, &edges));
        }
    }

    #[test]
    fn keep_policies_break_ties_by_input_order() {
        let bytes = [10, 30, 30, 5, 5];
        assert_eq!(choose_kept(&[0, 1, 2, 3, 4], &bytes, KeepPolicy::First), 0);
        assert_eq!(choose_kept(&[0, 1, 2, 3, 4], &bytes, KeepPolicy::Last), 4);
        assert_eq!(
            choose_kept(&[0, 1, 2, 3, 4], &bytes, KeepPolicy::Longest),
            1
        );
        assert_eq!(
            choose_kept(&[0, 1, 2, 3, 4], &bytes, KeepPolicy::Shortest),
            3
        );
    }

    #[test]
    fn union_reports_whether_it_joined() {
        let mut uf = UnionFind::new(3);
        assert!(uf.union(0, 1));
        assert!(!uf.union(1, 0));
        assert_eq!(uf.components(), vec![vec![0, 1]]);
    }
}
