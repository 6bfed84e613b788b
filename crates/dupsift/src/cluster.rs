//! Stage 7: clusters. Joins verified pairs and exact-duplicate groups with a union-find into
//! connected components, orders them canonically, and splits each component into the clusters
//! a cleanup removes ([`split`]): every member within the threshold of its cluster's kept
//! document.
//!
//! Canonical order makes reports independent of thread count and of the order pairs arrived in:
//! members sorted by document index, components by size (largest first) then by first member,
//! and a component's clusters in the order their kept documents are chosen.
//!
//! This stage sees document indices, sizes and similarities only; it must not see files or text.

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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// The document whose JSONL field (named here) holds the latest ISO-8601 date or time, or
    /// the largest number; documents without it (or with another value) rank last; ties: the
    /// first.
    Newest(String),
    /// As `Newest`, the earliest date or smallest number.
    Oldest(String),
}

impl KeepPolicy {
    /// The JSONL field the policy ranks documents by, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            KeepPolicy::Newest(f) | KeepPolicy::Oldest(f) => Some(f),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeepPolicy {
    /// As `--keep` takes it: `first`, …, `newest:FIELD`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeepPolicy::First => f.write_str("first"),
            KeepPolicy::Last => f.write_str("last"),
            KeepPolicy::Longest => f.write_str("longest"),
            KeepPolicy::Shortest => f.write_str("shortest"),
            KeepPolicy::Newest(field) => write!(f, "newest:{field}"),
            KeepPolicy::Oldest(field) => write!(f, "oldest:{field}"),
        }
    }
}

impl std::str::FromStr for KeepPolicy {
    type Err = String;

    /// Parses what [`Display`](std::fmt::Display) writes.
    fn from_str(s: &str) -> Result<KeepPolicy, String> {
        let by_field = |field: &str, make: fn(String) -> KeepPolicy| {
            if field.is_empty() {
                Err(format!("{s:?} names no field (newest:FIELD, oldest:FIELD)"))
            } else {
                Ok(make(field.to_owned()))
            }
        };
        match s {
            "first" => Ok(KeepPolicy::First),
            "last" => Ok(KeepPolicy::Last),
            "longest" => Ok(KeepPolicy::Longest),
            "shortest" => Ok(KeepPolicy::Shortest),
            _ => match s.split_once(':') {
                Some(("newest", field)) => by_field(field, KeepPolicy::Newest),
                Some(("oldest", field)) => by_field(field, KeepPolicy::Oldest),
                _ => Err(format!(
                    "{s:?} is not a keep policy (first, last, longest, shortest, newest:FIELD, oldest:FIELD)"
                )),
            },
        }
    }
}

impl serde::Serialize for KeepPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a cluster is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clustering {
    /// Each member is within the threshold of its cluster's kept document (or an exact copy
    /// of one): a connected component is split around kept documents ([`split`]), so nothing
    /// is removed without a near-duplicate that stays.
    #[default]
    Threshold,
    /// Connected components: a member may be removed because it is near another removed
    /// member (transitive removal).
    Components,
}

/// How `policy` ranks document `d` (of size `size`, with the value `rank` of the policy's
/// field, NaN when it has none) against the others of its cluster: the smallest key is kept.
/// Ties always go to the earlier document, except under `Last`.
pub fn keep_key(policy: &KeepPolicy, d: u32, size: u64, rank: f64) -> (u64, u64) {
    let d = u64::from(d);
    // Documents without a value rank after every document with one.
    let by_value = |order: fn(u64) -> u64| {
        if rank.is_nan() {
            u64::MAX
        } else {
            order(total_order(rank)).min(u64::MAX - 1)
        }
    };
    match policy {
        KeepPolicy::First => (0, d),
        KeepPolicy::Last => (0, u64::MAX - d),
        KeepPolicy::Longest => (u64::MAX - size, d),
        KeepPolicy::Shortest => (size, d),
        KeepPolicy::Newest(_) => (by_value(|v| u64::MAX - v), d),
        KeepPolicy::Oldest(_) => (by_value(|v| v), d),
    }
}

/// `x` as an unsigned integer of the same order (`-0.0` just below `0.0`).
fn total_order(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// One cluster of a split component: the kept document and the others, each with its
/// similarity to the kept one, in input order.
pub type Split = (u32, Vec<(u32, f64)>);

/// Splits one connected component into clusters whose members are all within the threshold
/// of their kept document.
///
/// `order` is the component's documents, most worth keeping first (see [`keep_key`]);
/// `class(d)` the documents byte-identical to `d`'s original, `d` included (sorted);
/// `original(d)` that original; `near(o)` the originals verified near `o` with their
/// similarity; `pinned(d)`: `d` is never removed (an indexed document, already in the corpus).
/// The best document not yet taken is kept; its exact copies and every not yet taken document
/// near it (with their copies), pinned ones excepted, join its cluster; repeat. A document
/// left with nothing near it stays alone and forms no cluster. Clusters come in the order
/// their kept documents were chosen.
pub fn split<'c, 'n>(
    order: &[u32],
    class: impl Fn(u32) -> &'c [u32],
    original: impl Fn(u32) -> u32,
    near: impl Fn(u32) -> &'n [(u32, f64)],
    pinned: impl Fn(u32) -> bool,
    taken: &mut rustc_hash::FxHashSet<u32>,
) -> Vec<Split> {
    let mut out = Vec::new();
    for &k in order {
        if taken.contains(&k) {
            continue;
        }
        taken.insert(k);
        let ko = original(k);
        let mut members: Vec<(u32, f64)> = Vec::new();
        // A class is taken whole (but for pinned documents, each kept on its own turn).
        for &d in class(ko) {
            if d != k && !pinned(d) && taken.insert(d) {
                members.push((d, 1.0));
            }
        }
        for &(n, s) in near(ko) {
            for &d in class(n) {
                if !pinned(d) && taken.insert(d) {
                    members.push((d, s));
                }
            }
        }
        if !members.is_empty() {
            members.sort_unstable_by_key(|m| m.0);
            out.push((k, members));
        }
    }
    out
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

    fn kept(policy: KeepPolicy, bytes: &[u64], ranks: &[f64]) -> u32 {
        (0..bytes.len() as u32)
            .min_by_key(|&d| keep_key(&policy, d, bytes[d as usize], ranks[d as usize]))
            .unwrap()
    }

    #[test]
    fn keep_policies_break_ties_by_input_order() {
        let bytes = [10, 30, 30, 5, 5];
        let none = [f64::NAN; 5];
        assert_eq!(kept(KeepPolicy::First, &bytes, &none), 0);
        assert_eq!(kept(KeepPolicy::Last, &bytes, &none), 4);
        assert_eq!(kept(KeepPolicy::Longest, &bytes, &none), 1);
        assert_eq!(kept(KeepPolicy::Shortest, &bytes, &none), 3);
        // Without values, the first; values rank before none; ties: the first.
        let newest = || KeepPolicy::Newest("t".into());
        let oldest = || KeepPolicy::Oldest("t".into());
        assert_eq!(kept(newest(), &bytes, &none), 0);
        let ranks = [f64::NAN, -3.0, 7.5, 7.5, -3.0];
        assert_eq!(kept(newest(), &bytes, &ranks), 2);
        assert_eq!(kept(oldest(), &bytes, &ranks), 1);
        assert_eq!(
            kept(oldest(), &bytes, &[f64::NAN, f64::NAN, 0.0, -0.0, 1.0]),
            3
        );
    }

    #[test]
    fn keep_policies_read_as_they_are_written() {
        for p in [
            "first",
            "last",
            "longest",
            "shortest",
            "newest:date",
            "oldest:meta.t",
        ] {
            assert_eq!(p.parse::<KeepPolicy>().unwrap().to_string(), p);
        }
        assert!("newest:".parse::<KeepPolicy>().is_err());
        assert!("latest".parse::<KeepPolicy>().is_err());
    }

    /// Runs [`split`] over `n` documents, all originals, joined by `edges` (one component).
    fn split_all(n: u32, edges: &[(u32, u32, f64)]) -> Vec<Split> {
        let classes: Vec<Vec<u32>> = (0..n).map(|d| vec![d]).collect();
        let mut near: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n as usize];
        for &(a, b, s) in edges {
            near[a as usize].push((b, s));
            near[b as usize].push((a, s));
        }
        let order: Vec<u32> = (0..n).collect();
        split(
            &order,
            |d| &classes[d as usize],
            |d| d,
            |o| &near[o as usize],
            |_| false,
            &mut Default::default(),
        )
    }

    #[test]
    fn a_chain_is_split_where_its_ends_are_far_apart() {
        // A~B and B~C, but A and C far apart: A keeps B; C stays alone.
        assert_eq!(
            split_all(3, &[(0, 1, 0.85), (1, 2, 0.85)]),
            vec![(0, vec![(1, 0.85)])]
        );
        // A path of four: A keeps B, C keeps D.
        assert_eq!(
            split_all(4, &[(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.8)]),
            vec![(0, vec![(1, 0.9)]), (2, vec![(3, 0.8)])]
        );
    }

    #[test]
    fn exact_copies_go_with_their_original() {
        // 0 and 2 are byte-identical; 1 is near 0 (so near 2 too); 3 is a copy of 1.
        let classes = [vec![0, 2], vec![1, 3], vec![0, 2], vec![1, 3]];
        let original = |d: u32| [0, 1, 0, 1][d as usize];
        let near = [vec![(1, 0.9)], vec![(0, 0.9)], vec![], vec![]];
        // Keep the last: 3 is kept, its copy 1 and the class of 0 join at 0.9.
        let got = split(
            &[3, 2, 1, 0],
            |d| &classes[d as usize],
            original,
            |o| &near[o as usize],
            |_| false,
            &mut Default::default(),
        );
        assert_eq!(got, vec![(3, vec![(0, 0.9), (1, 1.0), (2, 0.9)])]);
    }

    #[test]
    fn pinned_documents_are_never_members() {
        // Indexed 0 and 1 are near each other; new 2 is near 1 only, new 3 is a copy of 0.
        let classes = [vec![0, 3], vec![1], vec![2], vec![0, 3]];
        let near = [
            vec![(1, 0.9)],
            vec![(0, 0.9), (2, 0.85)],
            vec![(1, 0.85)],
            vec![],
        ];
        let got = split(
            &[0, 1, 2, 3],
            |d| &classes[d as usize],
            |d| [0, 1, 2, 0][d as usize],
            |o| &near[o as usize],
            |d| d < 2,
            &mut Default::default(),
        );
        // 1 stays (it is indexed), so 2 goes with it rather than staying alone.
        assert_eq!(got, vec![(0, vec![(3, 1.0)]), (1, vec![(2, 0.85)])]);
    }

    proptest! {
        /// Every member of every cluster is joined to its kept document by an edge, every
        /// document is in at most one cluster, and no two documents left alone are joined.
        #[test]
        fn split_removes_only_documents_near_a_kept_one(
            n in 2u32..40,
            raw in proptest::collection::vec((0u32..40, 0u32..40), 1..80),
        ) {
            let edges: Vec<(u32, u32, f64)> = raw
                .into_iter()
                .map(|(a, b)| (a % n, b % n, 0.9))
                .filter(|(a, b, _)| a != b)
                .collect();
            let got = split_all(n, &edges);
            let joined = |a: u32, b: u32| {
                edges.iter().any(|&(x, y, _)| (x, y) == (a, b) || (x, y) == (b, a))
            };
            let mut seen = std::collections::HashSet::new();
            for (k, members) in &got {
                prop_assert!(seen.insert(*k));
                for &(m, _) in members {
                    prop_assert!(joined(*k, m));
                    prop_assert!(seen.insert(m));
                }
            }
            // A document in no cluster has no edge to another such document: it would have
            // been kept with that one as its member.
            let alone: Vec<u32> = (0..n).filter(|d| !seen.contains(d)).collect();
            for &a in &alone {
                for &b in &alone {
                    prop_assert!(a == b || !joined(a, b));
                }
            }
        }
    }

    #[test]
    fn union_reports_whether_it_joined() {
        let mut uf = UnionFind::new(3);
        assert!(uf.union(0, 1));
        assert!(!uf.union(1, 0));
        assert_eq!(uf.components(), vec![vec![0, 1]]);
    }
}
