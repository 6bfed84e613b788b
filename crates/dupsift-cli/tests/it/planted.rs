//! A generated corpus with planted near-duplicates: ~200 unrelated documents of ~300 words, and
//! variants of some of them (word edits at 0.5–30 %, appended, truncated, reformatted, exact
//! copies). Expectations come from exact word-5-gram Jaccard computed here, independently of
//! dupsift (`util::jaccard5`), not from hard-coded figures: with word 5-grams a 3 % edit rate is
//! already below 0.8 (each changed word breaks up to five shingles).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::util::*;

/// One generated document: its id (path relative to the corpus root) and text.
struct Doc {
    id: String,
    text: String,
    /// The variant kind, e.g. "base", "e01", "e30", "copy".
    kind: &'static str,
}

struct Planted {
    corpus: TempCorpus,
    docs: Vec<Doc>,
    /// Exact word-5-gram Jaccard of every pair (i < j), by document index.
    j: HashMap<(usize, usize), f64>,
}

impl Planted {
    fn jac(&self, a: usize, b: usize) -> f64 {
        if a == b {
            return 1.0;
        }
        self.j[&(a.min(b), a.max(b))]
    }

    fn index(&self) -> HashMap<&str, usize> {
        self.docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect()
    }

    /// Pairs at or above `t`.
    fn pairs_at_least(&self, t: f64) -> Vec<(usize, usize)> {
        let mut v: Vec<_> = self
            .j
            .iter()
            .filter(|&(_, &j)| j >= t)
            .map(|(&p, _)| p)
            .collect();
        v.sort_unstable();
        v
    }

    /// Connected components (two or more documents) of the graph of pairs at or above `t`, as
    /// sets of ids.
    fn components(&self, t: f64) -> BTreeSet<BTreeSet<String>> {
        let n = self.docs.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        for (a, b) in self.pairs_at_least(t) {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra] = rb;
        }
        let mut groups: HashMap<usize, BTreeSet<String>> = HashMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            groups.entry(r).or_default().insert(self.docs[i].id.clone());
        }
        groups.into_values().filter(|g| g.len() > 1).collect()
    }
}

/// Word-edit variants: (kind, fraction of words replaced).
const EDITS: &[(&str, f64)] = &[("e01", 0.01), ("e03", 0.03), ("e05", 0.05), ("e30", 0.30)];

fn generate() -> Planted {
    let vocab = vocabulary(7, 3000);
    let mut rng = Rng::new(2024);
    let mut docs = Vec::new();
    let bases: Vec<Vec<String>> = (0..200)
        .map(|_| {
            let n = 250 + rng.below(101);
            random_words(&mut rng, &vocab, n)
        })
        .collect();
    for (i, words) in bases.iter().enumerate() {
        docs.push(Doc {
            id: format!("base/{i:03}.txt"),
            text: render(words),
            kind: "base",
        });
    }
    let add = |docs: &mut Vec<Doc>, i: usize, kind: &'static str, text: String| {
        docs.push(Doc {
            id: format!("var/{i:03}-{kind}.txt"),
            text,
            kind,
        });
    };
    for (i, words) in bases.iter().enumerate().take(20) {
        for &(kind, rate) in EDITS {
            let k = ((words.len() as f64 * rate).round() as usize).max(1);
            add(
                &mut docs,
                i,
                kind,
                render(&replace_words(&mut rng, words, &vocab, k)),
            );
        }
        if i % 4 == 0 {
            add(&mut docs, i, "copy", render(words));
        }
    }
    for (i, words) in bases.iter().enumerate().take(32).skip(20) {
        let mut longer = words.clone();
        longer.extend(random_words(&mut rng, &vocab, 15));
        add(&mut docs, i, "appended", render(&longer));
        let cut = words.len() * 92 / 100;
        add(&mut docs, i, "truncated", render(&words[..cut]));
        add(&mut docs, i, "reformatted", render_reformatted(words));
        add(&mut docs, i, "copy", render(words));
        add(
            &mut docs,
            i,
            "e005",
            render(&replace_words(&mut rng, words, &vocab, 2)),
        );
        add(
            &mut docs,
            i,
            "e02",
            render(&replace_words(&mut rng, words, &vocab, 6)),
        );
    }

    let corpus = TempCorpus::new();
    for d in &docs {
        corpus.file(&d.id, &d.text);
    }
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| word_shingles(&d.text, 5)).collect();
    let mut j = HashMap::new();
    for a in 0..docs.len() {
        for b in a + 1..docs.len() {
            j.insert((a, b), jaccard(&sets[a], &sets[b]));
        }
    }
    Planted { corpus, docs, j }
}

/// The generator must plant what the assertions need, or they would pass vacuously.
fn check_generator(p: &Planted) {
    let strong = p.pairs_at_least(0.8).len();
    assert!(strong >= 60, "only {strong} pairs at J >= 0.8");
    let mid = p.j.values().filter(|&&j| (0.5..0.78).contains(&j)).count();
    assert!(mid >= 20, "only {mid} pairs in [0.5, 0.78)");
    let idx = p.index();
    for (i, d) in p.docs.iter().enumerate() {
        let number = d.id.split('/').nth(1).expect("dir/name")[..3].to_owned();
        let base = idx[format!("base/{number}.txt").as_str()];
        let j = p.jac(i, base);
        match d.kind {
            "e01" | "e005" | "appended" | "truncated" => assert!(j >= 0.85, "{}: {j}", d.id),
            "copy" | "reformatted" => assert_eq!(j, 1.0, "{}", d.id),
            "e05" => assert!((0.5..0.75).contains(&j), "{}: {j}", d.id),
            "e30" => assert!(j < 0.2, "{}: {j}", d.id),
            _ => {}
        }
    }
    // Unrelated documents share (next to) nothing.
    let unrelated_max = (0..200)
        .flat_map(|a| (a + 1..200).map(move |b| (a, b)))
        .map(|(a, b)| p.jac(a, b))
        .fold(0.0, f64::max);
    assert!(
        unrelated_max < 0.05,
        "unrelated bases share {unrelated_max}"
    );
}

fn report_components(r: &Value) -> BTreeSet<BTreeSet<String>> {
    clusters(r)
        .into_iter()
        .map(|c| c.into_iter().collect())
        .collect()
}

#[test]
fn planted_near_duplicates_are_clustered_exactly_at_the_threshold() {
    let p = generate();
    check_generator(&p);
    let r = p.corpus.scan(&["."]);
    let idx = p.index();

    assert_eq!(summary(&r, "documents"), p.docs.len() as u64);
    let bytes: usize = p.docs.iter().map(|d| d.text.len()).sum();
    assert_eq!(summary(&r, "bytes"), bytes as u64);
    assert_eq!(summary(&r, "skipped"), 0, "{:?}", skipped(&r));

    // Recall: every pair at J >= 0.8 is in one cluster.
    let cl = cluster_index(&r);
    for (a, b) in p.pairs_at_least(0.8) {
        let (da, db) = (&p.docs[a].id, &p.docs[b].id);
        assert!(
            cl.contains_key(da) && cl.get(da) == cl.get(db),
            "{da} and {db} (J = {:.4}) are not in one cluster",
            p.jac(a, b)
        );
    }
    // Precision: no cluster holds a pair below 0.5.
    for c in clusters(&r) {
        for (x, a) in c.iter().enumerate() {
            for b in &c[x + 1..] {
                let j = p.jac(idx[a.as_str()], idx[b.as_str()]);
                assert!(j >= 0.5, "{a} and {b} (J = {j:.4}) are in one cluster");
            }
        }
    }
    // With exact verification both together mean: the clusters are exactly the connected
    // components of the J >= 0.8 graph.
    assert_eq!(report_components(&r), p.components(0.8));

    // 30 % edits are not near-duplicates of anything.
    for d in p.docs.iter().filter(|d| d.kind == "e30") {
        assert!(cluster_with(&r, &d.id).is_none(), "{} is clustered", d.id);
    }

    // Each member's similarity is its exact Jaccard with the kept document; exact copies are
    // flagged; the kept document is the first in input order.
    for c in arr(&r, "clusters") {
        let kept = s(c, "kept");
        let k = idx[kept];
        let ids = clusters(&r)[u(c, "id") as usize].clone();
        assert_eq!(
            Some(kept),
            ids.iter().map(String::as_str).min(),
            "keep first"
        );
        assert_eq!(u(c, "kept_bytes"), p.docs[k].text.len() as u64);
        for m in arr(c, "members") {
            let d = idx[s(m, "doc")];
            let sim = m["similarity"].as_f64().expect("f64");
            let j = p.jac(k, d);
            assert!(
                (sim - j).abs() < 2e-4,
                "{} vs {kept}: reported {sim}, exact {j}",
                p.docs[d].id
            );
            let identical = p.docs[d].text == p.docs[k].text;
            assert_eq!(m["exact"], identical, "{m}");
            assert_eq!(u(m, "bytes"), p.docs[d].text.len() as u64);
        }
    }
    // Canonical order: clusters largest first, then by first document; members in input order
    // (here input order is the ids' lexicographic order).
    let cl = clusters(&r);
    for w in cl.windows(2) {
        assert!(
            w[0].len() > w[1].len()
                || (w[0].len() == w[1].len() && w[0].iter().min() < w[1].iter().min()),
            "clusters out of order: {w:?}"
        );
    }
    for c in &cl {
        assert!(c[1..].is_sorted(), "members not in input order: {c:?}");
    }
    for d in p.docs.iter().filter(|d| d.kind == "copy") {
        let m = member(&r, &d.id).unwrap_or_else(|| panic!("{} is not a member", d.id));
        assert_eq!(m["exact"], true, "{m}");
        assert_eq!(m["similarity"].as_f64(), Some(1.0));
    }

    let expected = p.components(0.8);
    let dups: usize = expected.iter().map(|c| c.len() - 1).sum();
    assert_eq!(summary(&r, "clusters"), expected.len() as u64);
    assert_eq!(summary(&r, "duplicate_documents"), dups as u64);
    let copies = p.docs.iter().filter(|d| d.kind == "copy").count();
    assert_eq!(summary(&r, "exact_duplicate_documents"), copies as u64);
}

#[test]
fn planted_near_duplicates_with_estimated_verification() {
    let p = generate();
    let r = p.corpus.scan(&[".", "--verify", "estimate"]);
    let idx = p.index();
    assert_eq!(s(&r["params"], "verify"), "estimate");
    assert_eq!(summary(&r, "documents"), p.docs.len() as u64);

    let cl = cluster_index(&r);
    let together = |a: usize, b: usize| {
        let (da, db) = (&p.docs[a].id, &p.docs[b].id);
        cl.contains_key(da) && cl.get(da) == cl.get(db)
    };
    // Far above the threshold, the estimate (±0.035) cannot miss.
    for (a, b) in p.pairs_at_least(0.9) {
        assert!(
            together(a, b),
            "{} and {} (J = {:.4}) are not in one cluster",
            p.docs[a].id,
            p.docs[b].id,
            p.jac(a, b)
        );
    }
    let strong = p.pairs_at_least(0.85);
    let found = strong.iter().filter(|&&(a, b)| together(a, b)).count();
    assert!(
        found * 10 >= strong.len() * 9,
        "recall of J >= 0.85 pairs: {found} of {}",
        strong.len()
    );
    for c in clusters(&r) {
        for (x, a) in c.iter().enumerate() {
            for b in &c[x + 1..] {
                let j = p.jac(idx[a.as_str()], idx[b.as_str()]);
                assert!(j >= 0.5, "{a} and {b} (J = {j:.4}) are in one cluster");
            }
        }
    }
    for d in p.docs.iter().filter(|d| d.kind == "e30") {
        assert!(cluster_with(&r, &d.id).is_none(), "{} is clustered", d.id);
    }
    // Estimated similarities are near the exact ones; exact copies are still exact.
    for c in arr(&r, "clusters") {
        let k = idx[s(c, "kept")];
        for m in arr(c, "members") {
            let d = idx[s(m, "doc")];
            let sim = m["similarity"].as_f64().expect("f64");
            let j = p.jac(k, d);
            assert!(
                (sim - j).abs() <= 0.2,
                "{}: estimate {sim}, exact {j}",
                p.docs[d].id
            );
            if p.docs[d].text == p.docs[k].text {
                assert_eq!((m["exact"].as_bool(), sim), (Some(true), 1.0), "{m}");
            }
        }
    }
}
