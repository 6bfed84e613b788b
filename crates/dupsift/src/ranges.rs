//! Byte ranges of documents counted once where they overlap: what a cleanup would cut when
//! repeats of different passages cover the same bytes. A leaf helper shared by the scan's
//! totals and the check's figures, so both count the same way.

/// The length of the union of `ranges` (`(document, start, end)`, any order) per document,
/// in document order; each byte is counted once, and touching ranges join.
pub fn union_lengths<K: Ord + Copy>(mut ranges: Vec<(K, u64, u64)>) -> Vec<(K, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(K, u64)> = Vec::new();
    let mut add = |doc: K, n: u64| match out.last_mut() {
        Some(last) if last.0 == doc => last.1 += n,
        _ => out.push((doc, n)),
    };
    let mut cur: Option<(K, u64, u64)> = None;
    for (d, s, e) in ranges {
        match cur {
            Some((cd, cs, ce)) if cd == d && s <= ce => cur = Some((cd, cs, ce.max(e))),
            _ => {
                if let Some((cd, cs, ce)) = cur {
                    add(cd, ce - cs);
                }
                cur = Some((d, s, e));
            }
        }
    }
    if let Some((cd, cs, ce)) = cur {
        add(cd, ce - cs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_touching_ranges_count_once_per_document() {
        let got = union_lengths(vec![
            (2, 10, 20),
            (1, 0, 5),
            (1, 3, 8),
            (1, 8, 10),
            (1, 20, 25),
            (2, 12, 15),
        ]);
        assert_eq!(got, vec![(1, 15), (2, 10)]);
        assert_eq!(union_lengths::<u32>(Vec::new()), vec![]);
    }

    #[test]
    fn union_equals_a_byte_count_on_random_ranges() {
        let mut x = 7u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200 {
            let ranges: Vec<(u32, u64, u64)> = (0..next() % 12)
                .map(|_| {
                    let s = next() % 60;
                    ((next() % 3) as u32, s, s + next() % 15)
                })
                .collect();
            let mut bytes = std::collections::BTreeSet::new();
            for &(d, s, e) in &ranges {
                bytes.extend((s..e).map(|b| (d, b)));
            }
            let total: u64 = union_lengths(ranges).iter().map(|x| x.1).sum();
            assert_eq!(total, bytes.len() as u64);
        }
    }
}
