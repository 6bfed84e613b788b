//! Stage 8: repeated passages — runs of at least `min_words` words that occur two or more
//! times, inside one document or across documents.
//!
//! 1. **Fingerprints** (pass 1, per document): hashes of every `GRAM`-word window, thinned by
//!    winnowing with a window of `guarantee - GRAM + 1` grams. Winnowing keeps the minimum hash
//!    of every window, so any run of `guarantee` words shared by two places yields at least one
//!    identical fingerprint in both, while only about `2 / (window + 1)` of positions are kept.
//! 2. **Seeds**: fingerprints sorted by hash; each group of equal hashes pairs every occurrence
//!    with the group's first (a star) and with its predecessor (a chain), so a fingerprint shared
//!    by thousands of documents (boilerplate) costs a linear number of seeds, never a quadratic one.
//! 3. **Alignment**: for each pair of documents, seeds are verified against the words and extended
//!    greedily in both directions, through substituted, inserted or deleted words (a few at a
//!    time), then neighbouring alignments are joined. Inside one document the two sides never
//!    overlap, so a body pasted twice aligns as its first copy against its second.
//! 4. **Refining**: an alignment that spans a place where a document repeats itself is cut
//!    there (a doubled body copied whole into another document becomes two copies of the body).
//! 5. **Grouping**: every alignment side is an interval of a document; sides that are aligned to
//!    each other, or that cover mostly the same words of one document (an overlap of more than
//!    half the longer), join one passage (a union-find). Each document's merged intervals are
//!    the passage's occurrences.
//!
//! Memory: 16 bytes per fingerprint kept, plus the word hashes (4 bytes each) of one block of
//! documents at a time during alignment ([`BLOCK_WORDS`]).
//!
//! This stage finds spans in word positions; it must not depend on clusters or render anything.
//! Results are in word positions; the caller maps them to bytes with the tokenizer's spans.

use std::ops::Range;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::cluster::UnionFind;

/// Words per fingerprinted window.
pub const GRAM: usize = 8;

/// Words of alignment input held in memory at once (4 bytes each, plus a streamed chunk).
pub const BLOCK_WORDS: usize = 32 << 20;

/// Score of a mismatched word (or indel step) in an extension; a match scores 1.
const MISMATCH: i64 = 4;
/// How far below its best an extension's score may fall before it stops.
const X_DROP: i64 = 16;
/// Largest insertion or deletion (in words) an extension steps over.
const MAX_SHIFT: usize = 3;
/// Words that must match after a shift to accept it.
const CONFIRM: usize = 3;
/// Largest gap (in words, on either side) across which two alignments of a pair are joined.
const MAX_JOIN: usize = 8;

/// What counts as a repeated passage.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PassageParams {
    /// Shortest passage reported, in words.
    pub min_words: usize,
    /// Occurrences listed per passage (all are counted).
    pub max_occurrences: usize,
}

impl Default for PassageParams {
    fn default() -> PassageParams {
        PassageParams {
            min_words: 50,
            max_occurrences: 100,
        }
    }
}

impl PassageParams {
    /// Shared runs of at least this many words are guaranteed a common fingerprint: half the
    /// minimum, so that a passage copied with edits is still seeded by its longer unedited half.
    pub fn guarantee(&self) -> usize {
        (self.min_words / 2).max(GRAM)
    }

    /// The winnowing window, in grams.
    pub fn window(&self) -> usize {
        self.guarantee() - GRAM + 1
    }
}

/// Selects the fingerprints of one document from its word hashes by winnowing: `(hash,
/// position of the gram's first word)`, positions increasing. `grams` is scratch space.
pub fn fingerprints(
    word_hashes: &[u64],
    params: &PassageParams,
    grams: &mut Vec<u64>,
    window_buf: &mut Vec<u8>,
    out: &mut Vec<(u64, u32)>,
) {
    out.clear();
    let w = params.window();
    // A document shorter than the minimum passage cannot hold an occurrence.
    if word_hashes.len() < params.min_words || word_hashes.len() < GRAM + w - 1 {
        return;
    }
    grams.clear();
    crate::shingle::gram_hashes(word_hashes, GRAM, window_buf, grams);
    winnow(grams, w, out);
}

/// Appends `(hash, position)` of the rightmost minimum of every window of `w` hashes, once per
/// run of windows that share it. The minimum is kept as hashes arrive and only searched for
/// again when it leaves the window, which a random minimum does about once every `w` hashes.
fn winnow(grams: &[u64], w: usize, out: &mut Vec<(u64, u32)>) {
    let mut m = 0;
    let mut last = usize::MAX;
    for (i, &h) in grams.iter().enumerate() {
        if h <= grams[m] {
            // Ties keep the latest position. This also holds when the minimum has just left
            // the window: it was no larger than anything still in it.
            m = i;
        } else if m + w <= i {
            m = i + 1 - w;
            for j in m + 1..=i {
                if grams[j] <= grams[m] {
                    m = j;
                }
            }
        }
        if i + 1 >= w && m != last {
            out.push((grams[m], m as u32));
            last = m;
        }
    }
}

/// A fingerprint with its document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fingerprint {
    /// Gram hash.
    pub hash: u64,
    /// Document index.
    pub doc: u32,
    /// Word position of the gram.
    pub pos: u32,
}

/// Two places sharing a fingerprint; `(a, pa) < (b, pb)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seed {
    /// First document.
    pub a: u32,
    /// Second document (`>= a`).
    pub b: u32,
    /// Word position in `a`.
    pub pa: u32,
    /// Word position in `b`.
    pub pb: u32,
}

/// Top bits of a fingerprint's hash that choose its bucket in a [`FingerprintTable`].
const TABLE_BITS: u32 = 12;

/// Fingerprints per chunk of a [`FingerprintTable`] bucket.
const TABLE_CHUNK: usize = 256;

/// Bound on the buckets seeds are filed into by their first document.
const SEED_BUCKET_BITS: u32 = 8;

/// Fingerprint buckets per parallel task when seeds are made.
const FILL_RUN: usize = 64;

/// Buckets larger than this are sorted with both cores.
const PAR_SORT_LEN: usize = 1 << 16;

/// The fingerprints of a corpus, filed by the top bits of their hash as documents arrive: equal
/// hashes then meet in one small bucket, so finding them takes one small sort per bucket (in
/// parallel, in cache) instead of a sort of them all.
///
/// A bucket grows by chunks of 256 fingerprints rather than by doubling, so that at most a chunk
/// per bucket is left unused: doubling would leave a third of the table empty on average.
#[derive(Debug)]
pub struct FingerprintTable {
    buckets: Vec<Vec<Vec<Fingerprint>>>,
    /// One past the largest document number pushed.
    docs: u32,
}

impl Default for FingerprintTable {
    fn default() -> FingerprintTable {
        FingerprintTable {
            buckets: (0..1usize << TABLE_BITS).map(|_| Vec::new()).collect(),
            docs: 0,
        }
    }
}

impl FingerprintTable {
    /// Files the fingerprints of document `doc` (documents come in increasing order).
    pub fn push(&mut self, doc: u32, fps: &[(u64, u32)]) {
        for &(hash, pos) in fps {
            let chunks = &mut self.buckets[(hash >> (64 - TABLE_BITS)) as usize];
            if chunks.last().is_none_or(|c| c.len() == c.capacity()) {
                chunks.push(Vec::with_capacity(TABLE_CHUNK));
            }
            let chunk = chunks
                .last_mut()
                .expect("a chunk with room was just ensured");
            chunk.push(Fingerprint { hash, doc, pos });
        }
        if !fps.is_empty() {
            self.docs = self.docs.max(doc + 1);
        }
    }

    /// Number of fingerprints.
    pub fn len(&self) -> usize {
        self.buckets.iter().flatten().map(Vec::len).sum()
    }

    /// True when no fingerprint was pushed.
    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }
}

/// Sorts by a key that orders as `T` does, compared as one wide integer rather than field by
/// field.
fn sort_bucket<T: Send>(v: &mut [T], key: impl Fn(&T) -> u128 + Sync) {
    if v.len() > PAR_SORT_LEN {
        v.par_sort_unstable_by_key(key);
    } else {
        v.sort_unstable_by_key(key);
    }
}

impl Seed {
    fn key(&self) -> u128 {
        (u128::from(self.a) << 96)
            | (u128::from(self.b) << 64)
            | (u128::from(self.pa) << 32)
            | u128::from(self.pb)
    }
}

/// Seeds from all fingerprints, sorted by document pair, then position. The fingerprints are
/// consumed: they are freed before the seeds are sorted.
pub fn seeds(table: FingerprintTable, params: &PassageParams) -> Vec<Seed> {
    let FingerprintTable { buckets, docs } = table;
    // Each bucket's chunks become one vector, freed chunk by chunk. Filed in document order,
    // so a stable sort by hash alone orders by (hash, doc, pos).
    let buckets: Vec<Vec<Fingerprint>> = buckets
        .into_par_iter()
        .map(|chunks| {
            let mut b = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
            for c in chunks {
                b.extend_from_slice(&c);
            }
            b.sort_by_key(|f| f.hash);
            b
        })
        .collect();
    let min = params.min_words as u32;
    let same = |x: &Fingerprint, y: &Fingerprint| x.hash == y.hash;
    // Seeds are filed by the top bits of their first document as they are made, so that
    // sorting them is again one small sort per bucket.
    let shift = (u32::BITS - docs.leading_zeros()).saturating_sub(SEED_BUCKET_BITS);
    let slots = ((docs.max(1) as usize - 1) >> shift) + 1;
    let bucket = |s: &Seed| (s.a >> shift) as usize;
    // Counted first and filled in place: a parallel collect would hold every seed twice (its
    // per-thread pieces and the joined vector), the largest allocation of a passage search.
    // Each run of fingerprint buckets counts its seeds per slot, then writes them into slices
    // of its own, in parallel.
    let runs: Vec<&[Vec<Fingerprint>]> = buckets.chunks(FILL_RUN).collect();
    let counts: Vec<Vec<usize>> = runs
        .par_iter()
        .map(|run| {
            let mut c = vec![0usize; slots];
            for s in run
                .iter()
                .flat_map(|b| b.chunk_by(same))
                .flat_map(|g| seed_pairs(g, min))
            {
                c[bucket(&s)] += 1;
            }
            c
        })
        .collect();
    let per_slot: Vec<usize> = (0..slots)
        .map(|k| counts.iter().map(|c| c[k]).sum())
        .collect();
    let empty = Seed {
        a: 0,
        b: 0,
        pa: 0,
        pb: 0,
    };
    let mut seeds = vec![empty; per_slot.iter().sum()];
    // Slot by slot, each run's share of the slot, in run order.
    let mut shares: Vec<Vec<&mut [Seed]>> =
        (0..runs.len()).map(|_| Vec::with_capacity(slots)).collect();
    let mut rest = &mut seeds[..];
    for k in 0..slots {
        for (r, c) in counts.iter().enumerate() {
            let (share, tail) = std::mem::take(&mut rest).split_at_mut(c[k]);
            shares[r].push(share);
            rest = tail;
        }
    }
    runs.par_iter()
        .zip(shares.par_iter_mut())
        .for_each(|(run, share)| {
            let mut next = vec![0usize; slots];
            for s in run
                .iter()
                .flat_map(|b| b.chunk_by(same))
                .flat_map(|g| seed_pairs(g, min))
            {
                let k = bucket(&s);
                share[k][next[k]] = s;
                next[k] += 1;
            }
        });
    drop(shares);
    drop(runs);
    drop(buckets);
    let mut parts = Vec::with_capacity(slots);
    let mut rest = &mut seeds[..];
    for &c in &per_slot {
        let (part, tail) = rest.split_at_mut(c);
        parts.push(part);
        rest = tail;
    }
    parts
        .into_par_iter()
        .for_each(|p| sort_bucket(p, Seed::key));
    seeds.dedup();
    seeds
}

/// The seeds of one group of fingerprints with the same hash: the first with each other, and
/// each with the one before it.
fn seed_pairs(g: &[Fingerprint], min: u32) -> impl Iterator<Item = Seed> + '_ {
    let first = g[0];
    (1..g.len())
        .flat_map(move |k| {
            let star = Some((first, g[k]));
            let chain = (k >= 2).then(|| (g[k - 1], g[k]));
            star.into_iter().chain(chain)
        })
        // Inside one document the two places must leave room for two whole occurrences.
        .filter(move |(x, y)| x.doc != y.doc || y.pos >= x.pos + min)
        .map(|(x, y)| Seed {
            a: x.doc,
            b: y.doc,
            pa: x.pos,
            pb: y.pos,
        })
}

/// A document's words as the aligner needs them: word hashes truncated to 32 bits (a false
/// match costs one word of identity at worst).
pub type Words = Vec<u32>;

/// The aligner's view of a document's word hashes.
pub fn words(word_hashes: &[u64]) -> Words {
    let mut out = Vec::with_capacity(word_hashes.len());
    words_into(word_hashes, &mut out);
    out
}

/// [`words`] into a reused buffer (replacing its contents).
pub fn words_into(word_hashes: &[u64], out: &mut Words) {
    out.clear();
    out.extend(word_hashes.iter().map(|&h| h as u32));
}

/// One side of an alignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// Document index.
    pub doc: u32,
    /// Word range.
    pub words: Range<u32>,
}

/// Two places holding the same run of words (up to small edits).
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    /// The earlier place.
    pub a: Side,
    /// The later place.
    pub b: Side,
    /// Matching words over the longer side's length.
    pub identity: f64,
}

#[derive(Clone, Copy, Debug)]
struct Raw {
    a: (usize, usize),
    b: (usize, usize),
    matches: usize,
}

/// Which alignments found so far cover a seed `(pa, pb)` (hold `pa` on side a and `pb` on
/// side b): a scan of them all while they are few, as for most pairs, and a grid of cells of
/// [`Cover::CELL`] x [`Cover::CELL`] words once they are many. A document repeating a block
/// thousands of times has thousands of alignments with itself, and scanning them all for each
/// of its seeds took time quadratic in the document's size. The answer is the same either way.
#[derive(Default)]
struct Cover {
    /// Alignments `raws[..indexed]` are filed in `cells` or `long`.
    indexed: usize,
    /// Alignments by the cells they overlap.
    cells: FxHashMap<(usize, usize), Vec<u32>>,
    /// Alignments overlapping too many cells to be filed in each: scanned for every seed.
    long: Vec<u32>,
}

impl Cover {
    /// Alignments scanned one by one before the grid is built.
    const LINEAR: usize = 32;
    /// Words per side of a cell.
    const CELL: usize = 128;
    /// Cells an alignment may be filed in; a larger one goes to `long`.
    const MAX_CELLS: usize = 64;

    fn covers(&mut self, raws: &[Raw], pa: usize, pb: usize) -> bool {
        let holds = |r: &Raw| {
            #[cfg(test)]
            tests::CHECKS.with(|c| c.set(c.get() + 1));
            (r.a.0..r.a.1).contains(&pa) && (r.b.0..r.b.1).contains(&pb)
        };
        if raws.len() <= Self::LINEAR {
            return raws.iter().any(holds);
        }
        for (i, r) in raws.iter().enumerate().skip(self.indexed) {
            let ca = r.a.0 / Self::CELL..=(r.a.1.max(r.a.0 + 1) - 1) / Self::CELL;
            let cb = r.b.0 / Self::CELL..=(r.b.1.max(r.b.0 + 1) - 1) / Self::CELL;
            if ca.clone().count() * cb.clone().count() > Self::MAX_CELLS {
                self.long.push(i as u32);
                continue;
            }
            for x in ca {
                for y in cb.clone() {
                    self.cells.entry((x, y)).or_default().push(i as u32);
                }
            }
        }
        self.indexed = raws.len();
        let cell = (pa / Self::CELL, pb / Self::CELL);
        self.cells
            .get(&cell)
            .into_iter()
            .flatten()
            .chain(&self.long)
            .any(|&i| holds(&raws[i as usize]))
    }
}

/// Greedy X-drop extension from `(i, j)` in one direction: +1 per matching word, -[`MISMATCH`]
/// per substituted word or indel step; it stops once the score falls [`X_DROP`] below its best
/// and ends at the best point. Runs that match less than 4 words in 5 do not sustain an
/// extension, so rewritten text is not taken for a copy. Returns how many words of `a` and `b`
/// the extension covers and the matches in it.
fn extend(
    a: &[u32],
    b: &[u32],
    i: usize,
    j: usize,
    back: bool,
    room: (usize, usize),
) -> (usize, usize, usize) {
    let at = |s: &[u32], base: usize, k: usize| -> u32 {
        if back { s[base - 1 - k] } else { s[base + k] }
    };
    let (room_a, room_b) = room;
    let (mut da, mut db, mut m) = (0usize, 0usize, 0usize);
    let (mut score, mut best_score) = (0i64, 0i64);
    let mut best = (0, 0, 0);
    while da < room_a && db < room_b {
        if at(a, i, da) == at(b, j, db) {
            da += 1;
            db += 1;
            m += 1;
            score += 1;
            if score > best_score {
                best_score = score;
                best = (da, db, m);
            }
            continue;
        }
        score -= MISMATCH;
        if score < best_score - X_DROP {
            break;
        }
        let confirm = |sa: usize, sb: usize| {
            sa + CONFIRM <= room_a
                && sb + CONFIRM <= room_b
                && (0..CONFIRM).all(|k| at(a, i, sa + k) == at(b, j, sb + k))
        };
        if let Some(s) = (1..=MAX_SHIFT).find(|&s| confirm(da + s, db)) {
            da += s;
        } else if let Some(s) = (1..=MAX_SHIFT).find(|&s| confirm(da, db + s)) {
            db += s;
        } else {
            da += 1;
            db += 1;
        }
    }
    best
}

/// Aligns two documents (`a == b` for repeats inside one document) from their seeds
/// (`(pa, pb)` pairs), returning alignments of at least `min_words` words on both sides.
pub fn align_pair(
    a: (u32, &[u32]),
    b: (u32, &[u32]),
    seeds: impl IntoIterator<Item = (u32, u32)>,
    min_words: usize,
) -> Vec<Alignment> {
    let same = a.0 == b.0;
    let (ha, hb) = (a.1, b.1);
    let mut seeds: Vec<(u32, u32)> = seeds.into_iter().collect();
    seeds.sort_unstable_by_key(|&(pa, pb)| (pb as i64 - pa as i64, pa));
    let mut raws: Vec<Raw> = Vec::new();
    let mut cover = Cover::default();
    for &(pa, pb) in &seeds {
        let (pa, pb) = (pa as usize, pb as usize);
        if pa + GRAM > ha.len() || pb + GRAM > hb.len() {
            continue;
        }
        if cover.covers(&raws, pa, pb) || ha[pa..pa + GRAM] != hb[pb..pb + GRAM] {
            continue;
        }
        // Forward first; inside one document the first side must end before the second starts.
        let room_a = if same {
            pb - (pa + GRAM)
        } else {
            ha.len() - (pa + GRAM)
        };
        let (fa, fb, fm) = extend(
            ha,
            hb,
            pa + GRAM,
            pb + GRAM,
            false,
            (room_a, hb.len() - (pb + GRAM)),
        );
        let a_end = pa + GRAM + fa;
        let room_b = if same { pb - a_end } else { pb };
        let (ba, bb, bm) = extend(ha, hb, pa, pb, true, (pa, room_b));
        raws.push(Raw {
            a: (pa - ba, a_end),
            b: (pb - bb, pb + GRAM + fb),
            matches: GRAM + fm + bm,
        });
    }
    // Join alignments that continue each other across an edit too long for one extension.
    raws.sort_unstable_by_key(|r| (r.a.0, r.b.0));
    let mut joined: Vec<Raw> = Vec::new();
    for r in raws {
        if let Some(last) = joined.last_mut() {
            let gap_a = r.a.0 as i64 - last.a.1 as i64;
            let gap_b = r.b.0 as i64 - last.b.1 as i64;
            let near = |g: i64| (-(MAX_JOIN as i64)..=MAX_JOIN as i64).contains(&g);
            let fits = !same || r.a.1.max(last.a.1) <= last.b.0.min(r.b.0);
            if near(gap_a) && near(gap_b) && r.b.0 >= last.b.0 && fits {
                let overlap = (-gap_a).max(-gap_b).max(0) as usize;
                last.a.1 = last.a.1.max(r.a.1);
                last.b.1 = last.b.1.max(r.b.1);
                last.matches += r.matches.saturating_sub(overlap);
                continue;
            }
        }
        joined.push(r);
    }
    joined
        .into_iter()
        .filter(|r| r.a.1 - r.a.0 >= min_words && r.b.1 - r.b.0 >= min_words)
        .map(|r| {
            let longer = (r.a.1 - r.a.0).max(r.b.1 - r.b.0);
            Alignment {
                a: Side {
                    doc: a.0,
                    words: r.a.0 as u32..r.a.1 as u32,
                },
                b: Side {
                    doc: b.0,
                    words: r.b.0 as u32..r.b.1 as u32,
                },
                identity: (r.matches.min(longer)) as f64 / longer as f64,
            }
        })
        .collect()
}

/// One occurrence of a passage: a word range of a document.
pub type Occurrence = Side;

/// A passage and all its occurrences, in document order.
#[derive(Clone, Debug, PartialEq)]
pub struct Passage {
    /// Every occurrence, sorted by document then position.
    pub occurrences: Vec<Occurrence>,
    /// The lowest identity of the alignments that make up the passage (1.0: verbatim copies).
    pub identity: f64,
}

/// Where each document of a passage starts repeating itself: the start of every run of its
/// self-alignments' sides that begins past the end of the runs before it (sides of one
/// self-alignment never overlap), sorted by (document, word). A side of another alignment
/// that crosses such a place is cut there, so that a copy of the repeated text elsewhere,
/// or a shuffled variant, cannot merge the document's copies into one occurrence (which
/// would hide the repeat from the report and from a cleanup of self-repeats).
fn repeat_starts<'a>(self_aligned: impl Iterator<Item = &'a Alignment>) -> Vec<(u32, u32)> {
    let mut sides: Vec<(u32, u32, u32)> = self_aligned
        .flat_map(|x| [&x.a, &x.b])
        .map(|s| (s.doc, s.words.start, s.words.end))
        .collect();
    sides.sort_unstable();
    let mut out = Vec::new();
    let mut run: Option<(u32, u32)> = None; // (doc, end of the run so far)
    for (doc, start, end) in sides {
        match run {
            Some((d, e)) if d == doc && start < e => run = Some((d, e.max(end))),
            Some((d, _)) if d == doc => {
                out.push((doc, start));
                run = Some((doc, end));
            }
            _ => run = Some((doc, end)),
        }
    }
    out
}

/// `side`, cut at every barrier strictly inside it, into `out` (each piece with `repeat`).
fn split_at_barriers(
    side: &Side,
    repeat: bool,
    barriers: &[(u32, u32)],
    out: &mut Vec<(Occurrence, bool)>,
) {
    let lo = barriers.partition_point(|&b| b <= (side.doc, side.words.start));
    let hi = barriers.partition_point(|&b| b < (side.doc, side.words.end));
    let mut start = side.words.start;
    for &(_, at) in &barriers[lo..hi.max(lo)] {
        let words = start..at;
        out.push((
            Side {
                doc: side.doc,
                words,
            },
            repeat,
        ));
        start = at;
    }
    let words = start..side.words.end;
    out.push((
        Side {
            doc: side.doc,
            words,
        },
        repeat,
    ));
}

/// The occurrences of one passage from its sides (`members`: side `2k` is alignment `k`'s
/// first, `2k + 1` its second): overlapping sides of a document are one occurrence, except
/// that a document's copies of a self-repeat stay apart (see [`repeat_starts`]). Sorted by
/// (document, first word).
fn occurrences(alignments: &[Alignment], members: &[u32]) -> Vec<Occurrence> {
    let alignment = |k: u32| &alignments[k as usize / 2];
    let barriers = repeat_starts(members.iter().filter_map(|&k| {
        let x = alignment(k);
        (k % 2 == 0 && x.a.doc == x.b.doc).then_some(x)
    }));
    // Each piece with whether it is a side of a self-alignment (part of a repeat).
    let mut occ: Vec<(Occurrence, bool)> = Vec::with_capacity(members.len());
    for &k in members {
        let x = alignment(k);
        let side = if k.is_multiple_of(2) { &x.a } else { &x.b };
        split_at_barriers(side, x.a.doc == x.b.doc, &barriers, &mut occ);
    }
    occ.sort_unstable_by_key(|(o, _)| (o.doc, o.words.start));
    // Overlapping sides in one document are one occurrence.
    let mut merged: Vec<(Occurrence, bool)> = Vec::with_capacity(occ.len());
    for (o, repeat) in occ {
        match merged.last_mut() {
            Some((m, r)) if m.doc == o.doc && o.words.start < m.words.end => {
                m.words.end = m.words.end.max(o.words.end);
                *r |= repeat;
            }
            _ => merged.push((o, repeat)),
        }
    }
    // Pieces cut at a barrier stay apart only where both hold a copy of the repeat: elsewhere
    // the cut was not needed, and a side keeps its whole extent.
    let mut joined: Vec<Occurrence> = Vec::with_capacity(merged.len());
    let mut last_repeat = false;
    for (o, repeat) in merged {
        match joined.last_mut() {
            Some(m)
                if m.doc == o.doc
                    && m.words.end == o.words.start
                    && !(last_repeat && repeat)
                    && barriers.binary_search(&(o.doc, o.words.start)).is_ok() =>
            {
                m.words.end = o.words.end;
                last_repeat |= repeat;
            }
            _ => {
                joined.push(o);
                last_repeat = repeat;
            }
        }
    }
    joined
}

/// Gives each exact copy of a document that holds a passage more than once the same
/// occurrences (`original[d]`: the first document with `d`'s bytes). Copies are not searched
/// (their findings are their original's), but a copy may be the document a cleanup keeps, and
/// its self-repeats must then be reported and cut as its original's would be.
pub fn repeat_in_copies(passages: &mut [Passage], original: &[u32]) {
    let mut copies: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (d, &o) in original.iter().enumerate() {
        if o != d as u32 {
            copies.entry(o).or_default().push(d as u32);
        }
    }
    if copies.is_empty() {
        return;
    }
    for p in passages {
        let mut added = Vec::new();
        for run in p.occurrences.chunk_by(|a, b| a.doc == b.doc) {
            if let Some(cs) = copies.get(&run[0].doc).filter(|_| run.len() > 1) {
                for &c in cs {
                    added.extend(run.iter().map(|o| Side {
                        doc: c,
                        words: o.words.clone(),
                    }));
                }
            }
        }
        if !added.is_empty() {
            p.occurrences.extend(added);
            p.occurrences
                .sort_by_key(|o| (o.doc, o.words.start, o.words.end));
        }
    }
}

/// Groups alignments into passages: connected components of aligned sides, where sides of one
/// document that overlap by more than half of the longer join too. Passages come sorted by
/// their first occurrence.
pub fn group(alignments: &[Alignment]) -> Vec<Passage> {
    // Side `2k` is alignment k's first side, `2k + 1` its second.
    let side = |k: u32| {
        let x = &alignments[k as usize / 2];
        if k.is_multiple_of(2) { &x.a } else { &x.b }
    };
    let n = 2 * alignments.len() as u32;
    let mut uf = UnionFind::new(n as usize);
    for k in 0..alignments.len() as u32 {
        uf.union(2 * k, 2 * k + 1);
    }
    // Overlapping sides of one document: a sweep in (doc, start) order.
    let mut order: Vec<(u32, u32, u32, u32)> = (0..n)
        .map(|k| {
            let s = side(k);
            (s.doc, s.words.start, s.words.end, k)
        })
        .collect();
    order.par_sort_unstable();
    let mut run: Option<(u32, Range<u32>, u32)> = None; // (doc, merged words, a member)
    for &(doc, start, end, k) in &order {
        if let Some((run_doc, ref mut r, member)) = run
            && run_doc == doc
        {
            // Mostly the same words: a short side inside a long one is another passage.
            let overlap = r.end.min(end).saturating_sub(start);
            let longer = (r.end - r.start).max(end - start);
            if 2 * overlap > longer {
                uf.union(member, k);
                r.end = r.end.max(end);
                continue;
            }
        }
        run = Some((doc, start..end, k));
    }
    drop(order);
    // The sides of each set, ascending, laid out set after set.
    let roots: Vec<u32> = (0..n).map(|x| uf.find(x)).collect();
    let mut at = vec![0u32; n as usize + 1];
    for &r in &roots {
        at[r as usize + 1] += 1;
    }
    for i in 0..n as usize {
        at[i + 1] += at[i];
    }
    let mut next = at.clone();
    let mut members = vec![0u32; n as usize];
    for (x, &r) in roots.iter().enumerate() {
        members[next[r as usize] as usize] = x as u32;
        next[r as usize] += 1;
    }
    drop(next);
    let mut identity = vec![1.0f64; n as usize];
    for (k, x) in alignments.iter().enumerate() {
        let e = &mut identity[roots[2 * k] as usize];
        *e = e.min(x.identity);
    }
    let set = |r: u32| &members[at[r as usize] as usize..at[r as usize + 1] as usize];
    // Every side is in a set of two or more (its alignment's other side at least). Sets are
    // taken largest first, then by smallest side, so that ties in the final order below fall
    // the same way whatever the union-find's shape.
    let mut sets: Vec<u32> = (0..n).filter(|&x| roots[x as usize] == x).collect();
    sets.sort_unstable_by_key(|&r| (std::cmp::Reverse(set(r).len()), set(r)[0]));
    let mut passages: Vec<Passage> = sets
        .par_iter()
        .filter_map(|&r| {
            let merged = occurrences(alignments, set(r));
            (merged.len() > 1).then(|| Passage {
                occurrences: merged,
                identity: identity[r as usize],
            })
        })
        .collect();
    passages.sort_unstable_by_key(|p| (p.occurrences[0].doc, p.occurrences[0].words.start));
    passages
}

/// Splits alignments where a document repeats itself inside them, so that a run which is made
/// of repeats is reported as its parts: a body pasted twice, copied whole into another document,
/// is one passage with four occurrences, not a long passage hiding the repeat. The cut points
/// are the bounds of alignments within one document; a cut is made only where every piece keeps
/// at least `min_words` words, and is carried to the other side in proportion (exact for
/// verbatim copies), where it may cut further alignments (a few rounds). Bounds of alignments
/// between different documents do not cut: a copy that was edited or truncated must not break
/// a passage into fragments.
pub fn refine(mut alignments: Vec<Alignment>, min_words: usize) -> Vec<Alignment> {
    let mut cuts: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for x in alignments.iter().filter(|x| x.a.doc == x.b.doc) {
        cuts.entry(x.a.doc).or_default().extend([
            x.a.words.start,
            x.a.words.end,
            x.b.words.start,
            x.b.words.end,
        ]);
    }
    let min = min_words as u32;
    for _ in 0..4 {
        for c in cuts.values_mut() {
            c.sort_unstable();
            c.dedup();
        }
        let inside = |s: &Side| -> Vec<u32> {
            let Some(c) = cuts.get(&s.doc) else {
                return Vec::new();
            };
            let lo = c.partition_point(|&k| k < s.words.start + min);
            let hi = c.partition_point(|&k| k + min <= s.words.end);
            c[lo..hi.max(lo)]
                .iter()
                .map(|&k| k - s.words.start)
                .collect()
        };
        let mut new_cuts: Vec<(u32, u32)> = Vec::new();
        let mut out = Vec::with_capacity(alignments.len());
        for x in alignments {
            let (la, lb) = (x.a.words.len() as u64, x.b.words.len() as u64);
            let mut offsets = inside(&x.a);
            offsets.extend(
                inside(&x.b)
                    .into_iter()
                    .map(|k| (k as u64 * la / lb) as u32),
            );
            offsets.sort_unstable();
            let mut at = vec![0u32];
            for k in offsets {
                if k >= at[at.len() - 1] + min && la as u32 >= k + min {
                    at.push(k);
                }
            }
            if at.len() == 1 {
                out.push(x);
                continue;
            }
            at.push(la as u32);
            let to_b = |k: u32| x.b.words.start + (k as u64 * lb / la) as u32;
            for &k in &at[1..at.len() - 1] {
                new_cuts.push((x.a.doc, x.a.words.start + k));
                new_cuts.push((x.b.doc, to_b(k)));
            }
            for w in at.windows(2) {
                out.push(Alignment {
                    a: Side {
                        doc: x.a.doc,
                        words: x.a.words.start + w[0]..x.a.words.start + w[1],
                    },
                    b: Side {
                        doc: x.b.doc,
                        words: to_b(w[0])..to_b(w[1]),
                    },
                    identity: x.identity,
                });
            }
        }
        alignments = out;
        if new_cuts.is_empty() {
            break;
        }
        for (doc, k) in new_cuts {
            cuts.entry(doc).or_default().push(k);
        }
    }
    alignments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::word_hashes;
    use crate::tokenize::{Tokens, tokenize};

    fn params(min_words: usize) -> PassageParams {
        PassageParams {
            min_words,
            max_occurrences: 100,
        }
    }

    fn words_of(text: &str) -> (Vec<u64>, Words) {
        let mut t = Tokens::default();
        tokenize(text.as_bytes(), &mut t);
        let mut h = Vec::new();
        word_hashes(&t, &mut h);
        let w = words(&h);
        (h, w)
    }

    /// Winnowing as first written: a deque of increasing hashes.
    fn winnow_deque(grams: &[u64], w: usize) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        let mut deque = std::collections::VecDeque::with_capacity(w);
        let mut last = usize::MAX;
        for (i, &h) in grams.iter().enumerate() {
            while deque.back().is_some_and(|&j: &usize| grams[j] >= h) {
                deque.pop_back();
            }
            deque.push_back(i);
            if deque.front().is_some_and(|&j| j + w <= i) {
                deque.pop_front();
            }
            if i + 1 >= w {
                let m = *deque.front().expect("window is not empty");
                if m != last {
                    out.push((grams[m], m as u32));
                    last = m;
                }
            }
        }
        out
    }

    #[test]
    fn winnowing_keeps_the_rightmost_minimum_of_every_window() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..2000 {
            let n = 1 + (next() % 300) as usize;
            let w = 1 + (next() % 40) as usize;
            // Few distinct values in some cases, so that ties are common; runs in others.
            let range = [3, 20, u64::MAX][case % 3];
            let grams: Vec<u64> = (0..n)
                .map(|i| {
                    if case % 7 == 0 {
                        (n - i) as u64 % range
                    } else {
                        next() % range
                    }
                })
                .collect();
            let mut out = Vec::new();
            winnow(&grams, w, &mut out);
            assert_eq!(out, winnow_deque(&grams, w), "n {n} w {w} case {case}");
        }
    }

    #[test]
    fn seeds_are_those_of_one_sort_of_all_fingerprints() {
        // Enough documents for seeds to be filed into many buckets, hashes shared by a few
        // documents or by thousands, and repeats inside documents.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let p = params(50);
        let mut table = FingerprintTable::default();
        let mut all = Vec::new();
        for doc in 0..6000u32 {
            let mut fps: Vec<(u64, u32)> = (0..(next() % 12) as u32)
                .map(|i| {
                    let hash = match next() % 4 {
                        0 => next() % 700,
                        1 => u64::MAX - next() % 3,
                        _ => next(),
                    };
                    (hash.rotate_right(11), i * 40 + (next() % 30) as u32)
                })
                .collect();
            fps.sort_by_key(|f| f.1);
            table.push(doc, &fps);
            all.extend(
                fps.iter()
                    .map(|&(hash, pos)| Fingerprint { hash, doc, pos }),
            );
        }
        assert_eq!(table.len(), all.len());
        all.sort_unstable();
        let mut expect: Vec<Seed> = all
            .chunk_by(|x, y| x.hash == y.hash)
            .flat_map(|g| seed_pairs(g, p.min_words as u32))
            .collect();
        expect.sort_unstable();
        expect.dedup();
        assert!(expect.len() > 10_000);
        assert_eq!(seeds(table, &p), expect);
    }

    /// The whole stage on in-memory documents.
    fn find(texts: &[&str], p: &PassageParams) -> Vec<Passage> {
        let docs: Vec<(Vec<u64>, Words)> = texts.iter().map(|t| words_of(t)).collect();
        let mut fps = FingerprintTable::default();
        let (mut grams, mut buf, mut out) = (Vec::new(), Vec::new(), Vec::new());
        for (d, (h, _)) in docs.iter().enumerate() {
            fingerprints(h, p, &mut grams, &mut buf, &mut out);
            fps.push(d as u32, &out);
        }
        let seeds = seeds(fps, p);
        let mut alignments = Vec::new();
        for g in seeds.chunk_by(|x, y| (x.a, x.b) == (y.a, y.b)) {
            let (a, b) = (g[0].a, g[0].b);
            alignments.extend(align_pair(
                (a, &docs[a as usize].1),
                (b, &docs[b as usize].1),
                g.iter().map(|s| (s.pa, s.pb)),
                p.min_words,
            ));
        }
        group(&refine(alignments, p.min_words))
    }

    thread_local! {
        /// Alignments [`Cover`] compared with a seed, on this thread.
        pub(super) static CHECKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// Issue 18, item 11: a document repeating a block thousands of times costs each seed a
    /// few comparisons with the alignments found so far, not one with each of them (which made
    /// a 22 MB log take 50 s, quadratic in its size).
    #[test]
    fn a_block_repeated_thousands_of_times_costs_each_seed_a_few_comparisons() {
        let block = filler(1, 60);
        let mut text = String::new();
        for k in 0..2000 {
            text.push_str(&filler(1000 + k, 10));
            text.push(' ');
            text.push_str(&block);
            text.push(' ');
        }
        let p = params(50);
        CHECKS.with(|c| c.set(0));
        let found = find(&[&text], &p);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].occurrences.len(), 2000);
        let (h, _) = words_of(&text);
        let mut fps = FingerprintTable::default();
        let (mut grams, mut buf, mut out) = (Vec::new(), Vec::new(), Vec::new());
        fingerprints(&h, &p, &mut grams, &mut buf, &mut out);
        fps.push(0, &out);
        let seeds = seeds(fps, &p).len() as u64;
        let checks = CHECKS.with(|c| c.get());
        assert!(
            checks <= 64 * seeds,
            "{checks} comparisons for {seeds} seeds: quadratic again"
        );
    }

    proptest::proptest! {
        /// The grid answers as a scan of every alignment does.
        #[test]
        fn the_cover_grid_answers_as_a_scan_does(
            raws in proptest::collection::vec((0usize..2000, 1usize..600, 0usize..2000, 1usize..600), 0..120),
            queries in proptest::collection::vec((0usize..2600, 0usize..2600), 1..60),
        ) {
            let mut cover = Cover::default();
            let mut so_far: Vec<Raw> = Vec::new();
            for (k, &(a0, la, b0, lb)) in raws.iter().enumerate() {
                so_far.push(Raw { a: (a0, a0 + la), b: (b0, b0 + lb), matches: 0 });
                let (pa, pb) = queries[k % queries.len()];
                let scan = so_far.iter().any(|r| (r.a.0..r.a.1).contains(&pa) && (r.b.0..r.b.1).contains(&pb));
                proptest::prop_assert_eq!(cover.covers(&so_far, pa, pb), scan);
            }
            for &(pa, pb) in &queries {
                let scan = so_far.iter().any(|r| (r.a.0..r.a.1).contains(&pa) && (r.b.0..r.b.1).contains(&pb));
                proptest::prop_assert_eq!(cover.covers(&so_far, pa, pb), scan);
            }
        }
    }

    /// Deterministic filler text of `n` distinct-looking words.
    fn filler(seed: u64, n: usize) -> String {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("w{}", s >> 40)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn winnowing_sees_every_shared_run_of_the_guaranteed_length() {
        let p = params(50);
        let shared = filler(7, p.guarantee());
        let a = format!("{} {shared} {}", filler(1, 40), filler(2, 40));
        let b = format!("{} {shared} {}", filler(3, 77), filler(4, 13));
        let (mut g, mut buf) = (Vec::new(), Vec::new());
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        fingerprints(&words_of(&a).0, &p, &mut g, &mut buf, &mut fa);
        fingerprints(&words_of(&b).0, &p, &mut g, &mut buf, &mut fb);
        let ha: std::collections::HashSet<u64> = fa.iter().map(|x| x.0).collect();
        assert!(fb.iter().any(|x| ha.contains(&x.0)));
        // ... and thins the rest: far fewer fingerprints than words.
        assert!(fa.len() * 4 < 80 + p.guarantee());
    }

    #[test]
    fn a_body_pasted_twice_is_one_passage_with_two_occurrences() {
        let body = filler(11, 300);
        let doc = format!("{body}\n{body}");
        let found = find(&[&doc], &params(50));
        assert_eq!(found.len(), 1, "{found:?}");
        let occ = &found[0].occurrences;
        assert_eq!(occ.len(), 2);
        assert_eq!(occ[0].words, 0..300);
        assert_eq!(occ[1].words, 300..600);
        assert_eq!(found[0].identity, 1.0);
    }

    #[test]
    fn a_passage_three_times_in_one_document_has_three_occurrences() {
        let p = filler(5, 80);
        let doc = format!(
            "{} {p} {} {p} {} {p} {}",
            filler(1, 30),
            filler(2, 30),
            filler(3, 30),
            filler(4, 30)
        );
        let found = find(&[&doc], &params(50));
        assert_eq!(found.len(), 1, "{found:?}");
        let words: Vec<_> = found[0]
            .occurrences
            .iter()
            .map(|o| o.words.clone())
            .collect();
        assert_eq!(words, [30..110, 140..220, 250..330]);
    }

    #[test]
    fn a_copied_passage_is_found_at_full_length_across_documents() {
        let p = filler(9, 120);
        let a = format!("{} {p} {}", filler(1, 50), filler(2, 50));
        let b = format!("{} {p}", filler(3, 10));
        let c = filler(4, 200);
        let found = find(&[&a, &b, &c], &params(50));
        assert_eq!(found.len(), 1);
        let o = &found[0].occurrences;
        assert_eq!((o[0].doc, o[0].words.clone()), (0, 50..170));
        assert_eq!((o[1].doc, o[1].words.clone()), (1, 10..130));
    }

    #[test]
    fn small_edits_keep_one_passage_with_its_identity() {
        let words: Vec<String> = filler(9, 200).split(' ').map(String::from).collect();
        let mut edited = words.clone();
        edited[40] = "changed".into(); // substitution
        edited.remove(90); // deletion
        edited.insert(150, "inserted".into()); // insertion
        let a = format!("{} {}", filler(1, 20), words.join(" "));
        let b = format!("{} {}", filler(2, 20), edited.join(" "));
        let found = find(&[&a, &b], &params(50));
        assert_eq!(found.len(), 1, "{found:?}");
        let o = &found[0].occurrences;
        assert_eq!(o[0].words, 20..220);
        assert_eq!(o[1].words, 20..220);
        let id = found[0].identity;
        assert!((0.97..1.0).contains(&id), "{id}");
    }

    #[test]
    fn short_or_absent_repeats_are_not_passages() {
        // 40 shared words: below the 50-word minimum.
        let p = filler(9, 40);
        let a = format!("{} {p} {}", filler(1, 50), filler(2, 50));
        let b = format!("{} {p} {}", filler(3, 50), filler(4, 50));
        assert!(find(&[&a, &b], &params(50)).is_empty());
        assert!(find(&[&filler(1, 500), &filler(2, 500)], &params(50)).is_empty());
    }

    #[test]
    fn boilerplate_in_many_documents_is_one_passage_with_linear_seeds() {
        let boiler = filler(99, 60);
        let docs: Vec<String> = (0..300)
            .map(|i| format!("{} {boiler} {}", filler(i, 30), filler(1000 + i, 30)))
            .collect();
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let p = params(50);
        let found = find(&refs, &p);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].occurrences.len(), 300);
        assert!(found[0].occurrences.iter().all(|o| o.words == (30..90)));
        // Seeds grow linearly with the number of copies.
        let mut fps = FingerprintTable::default();
        let (mut g, mut buf, mut out) = (Vec::new(), Vec::new(), Vec::new());
        for (d, t) in refs.iter().enumerate() {
            fingerprints(&words_of(t).0, &p, &mut g, &mut buf, &mut out);
            fps.push(d as u32, &out);
        }
        let per_copy = seeds(fps, &p).len() / 300;
        assert!(per_copy < 20, "{per_copy} seeds per copy");
    }

    #[test]
    fn a_doubled_body_copied_whole_is_still_two_copies_of_the_body() {
        let body = filler(11, 200);
        let doubled = format!("{body} {body}");
        let again = format!("{} {doubled} {}", filler(1, 30), filler(2, 30));
        let found = find(&[&doubled, &again], &params(50));
        assert_eq!(found.len(), 1, "{found:?}");
        let occ: Vec<_> = found[0]
            .occurrences
            .iter()
            .map(|o| (o.doc, o.words.clone()))
            .collect();
        assert_eq!(
            occ,
            [(0, 0..200), (0, 200..400), (1, 30..230), (1, 230..430)]
        );
    }

    #[test]
    fn adjacent_and_overlapping_copies() {
        // Two different passages back to back in one document, each copied elsewhere.
        let (p1, p2) = (filler(21, 70), filler(22, 70));
        let a = format!("{p1} {p2}");
        let b = format!("{} {p1}", filler(1, 20));
        let c = format!("{p2} {}", filler(2, 20));
        let found = find(&[&a, &b, &c], &params(50));
        assert_eq!(found.len(), 2, "{found:?}");
        let mut firsts: Vec<_> = found
            .iter()
            .map(|p| p.occurrences[0].words.clone())
            .collect();
        firsts.sort_unstable_by_key(|r| r.start);
        assert_eq!(firsts, [0..70, 70..140]);
        // A copy of the second half of one passage and the first half of the next.
        let p3 = format!("{} {}", &p1[p1.len() / 2..], &p2[..p2.len() / 2]);
        let d = format!("{} {p3}", filler(3, 20));
        assert!(!find(&[&a, &d], &params(50)).is_empty());
    }

    #[test]
    fn a_shuffled_copy_of_a_doubled_body_does_not_merge_its_two_copies() {
        // The body is 70 words in 7 sentences of 10; the variant moves the last sentence to
        // the front, so it matches the doubled document across the place where the second copy
        // starts. The doubled document must still show two occurrences (its self-repeat).
        let sentences: Vec<String> = (0..7).map(|k| filler(40 + k, 10)).collect();
        let body = sentences.join(" ");
        let doubled = format!("{body} {body}");
        let shuffled = format!("{} {}", sentences[6], sentences[..6].join(" "));
        let found = find(&[&doubled, &shuffled], &params(50));
        let of_doubled: Vec<Range<u32>> = found
            .iter()
            .flat_map(|p| &p.occurrences)
            .filter(|o| o.doc == 0)
            .map(|o| o.words.clone())
            .collect();
        assert!(
            of_doubled.contains(&(0..70)) && of_doubled.contains(&(70..140)),
            "{found:?}"
        );
        // On alignments alone: a cross-document side that mostly covers the first copy (so it
        // joins its passage) and runs into the second is cut where the second starts.
        let side = |doc, words: Range<u32>| Side { doc, words };
        let alignments = [
            Alignment {
                a: side(0, 0..68),
                b: side(0, 68..136),
                identity: 1.0,
            },
            Alignment {
                a: side(0, 10..90),
                b: side(1, 0..80),
                identity: 1.0,
            },
        ];
        let grouped = group(&alignments);
        assert_eq!(grouped.len(), 1, "{grouped:?}");
        let occ: Vec<(u32, Range<u32>)> = grouped[0]
            .occurrences
            .iter()
            .map(|o| (o.doc, o.words.clone()))
            .collect();
        assert_eq!(occ, [(0, 0..68), (0, 68..136), (1, 0..80)]);
    }
}
