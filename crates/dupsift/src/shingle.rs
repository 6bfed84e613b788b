//! Stage 3: turn a document's words into shingles: overlapping windows of `n` units (words or
//! characters), each hashed to a `u64` with seeded xxh3 over bytes.
//!
//! The hashes are part of dupsift's on-disk contract (an index stores signatures built from
//! them), so they are computed from explicit little-endian bytes with fixed seeds, never through
//! `std::hash::Hash`. Changing [`WORD_SEED`], [`SHINGLE_SEED`] or the byte layout below is a
//! format change.
//!
//! This stage must not know about permutations, bands or thresholds.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::tokenize::Tokens;

/// Seed of the per-word hash: `xxh3_64(folded word bytes, WORD_SEED)`.
pub const WORD_SEED: u64 = 0x6475_7073_6966_7477; // "dupsiftw"
/// Seed of the shingle hash. A word shingle is `xxh3_64(concat of its word hashes as LE u64)`;
/// a character shingle is `xxh3_64(UTF-8 bytes of its characters)`.
pub const SHINGLE_SEED: u64 = 0x6475_7073_6966_7473; // "dupsifts"

/// What a shingle is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Folded words (see [`crate::tokenize`]).
    Word,
    /// Characters of the folded words joined by single spaces.
    Char,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unit::Word => "word",
            Unit::Char => "char",
        })
    }
}

/// Reusable per-thread buffers for [`shingles`].
#[derive(Default, Debug)]
pub struct Scratch {
    word_hashes: Vec<u64>,
    window: Vec<u8>,
    chars: Vec<(usize, usize)>,
    joined: String,
}

/// Appends the hashes of all `n`-unit windows of `tokens` to `out`, in document order (with
/// repeats: callers that need a set sort and dedup). A document shorter than `n` units but not
/// empty yields one shingle of everything it has, so short documents can still match.
pub fn shingles(tokens: &Tokens, unit: Unit, n: usize, scratch: &mut Scratch, out: &mut Vec<u64>) {
    assert!(n > 0, "shingle size must be positive");
    if tokens.is_empty() {
        return;
    }
    match unit {
        Unit::Word => word_shingles(tokens, n, scratch, out),
        Unit::Char => char_shingles(tokens, n, scratch, out),
    }
}

fn word_shingles(tokens: &Tokens, n: usize, scratch: &mut Scratch, out: &mut Vec<u64>) {
    word_hashes(tokens, &mut scratch.word_hashes);
    gram_hashes(&scratch.word_hashes, n, &mut scratch.window, out);
}

/// The hash of every word of `tokens`, in order: `xxh3_64(folded word, WORD_SEED)`.
pub fn word_hashes(tokens: &Tokens, out: &mut Vec<u64>) {
    out.clear();
    out.extend((0..tokens.len()).map(|i| xxh3_64_with_seed(tokens.word(i).as_bytes(), WORD_SEED)));
}

/// The hash of every word of `text`, in order: equal to [`word_hashes`] of
/// [`tokenize`](crate::tokenize::tokenize)`(text)`, without keeping the words or their spans
/// (`tokens` is only scratch for non-ASCII pieces).
pub fn text_word_hashes(text: &[u8], tokens: &mut Tokens, out: &mut Vec<u64>) {
    out.clear();
    crate::tokenize::fold_words(text, tokens, |w, _| {
        out.push(xxh3_64_with_seed(w, WORD_SEED))
    });
}

/// [`text_word_hashes`] of at least the first `n` words (all of them when the text has fewer),
/// with each word's byte span in `text`. It tokenises no further than the ASCII whitespace after
/// a guessed prefix, then in growing steps: a word never spans ASCII whitespace, so words found
/// piece by piece are the words of the whole text. `guess` is where the `n`th word is expected
/// to end, in bytes (`usize::MAX` words: the whole text).
pub fn text_word_hashes_spans_prefix(
    text: &[u8],
    n: usize,
    guess: usize,
    tokens: &mut Tokens,
    out: &mut Vec<u64>,
    spans: &mut Vec<std::ops::Range<usize>>,
) {
    out.clear();
    spans.clear();
    let mut from = 0;
    let mut step = guess.max(64);
    while out.len() < n && from < text.len() {
        let want = from.saturating_add(step).min(text.len());
        let cut = text[want..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(text.len(), |k| want + k);
        crate::tokenize::fold_words(&text[from..cut], tokens, |w, span| {
            out.push(xxh3_64_with_seed(w, WORD_SEED));
            spans.push(from + span.start..from + span.end);
        });
        from = cut;
        step = step.saturating_mul(2);
    }
}

/// Appends the hash of every window of `n` word hashes (one window of all of them when there
/// are fewer than `n`, none when there are none): the word-shingle hash format.
pub fn gram_hashes(word_hashes: &[u64], n: usize, window: &mut Vec<u8>, out: &mut Vec<u64>) {
    if word_hashes.is_empty() {
        return;
    }
    let n = n.min(word_hashes.len());
    out.reserve(word_hashes.len() + 1 - n);
    #[cfg(target_endian = "little")]
    {
        // The in-memory bytes of the words are already the little-endian concatenation.
        let _ = window;
        let bytes: &[u8] = bytemuck_u64(word_hashes);
        for i in 0..=word_hashes.len() - n {
            out.push(xxh3_64_with_seed(&bytes[8 * i..8 * (i + n)], SHINGLE_SEED));
        }
    }
    #[cfg(not(target_endian = "little"))]
    for w in word_hashes.windows(n) {
        window.clear();
        for h in w {
            window.extend_from_slice(&h.to_le_bytes());
        }
        out.push(xxh3_64_with_seed(window, SHINGLE_SEED));
    }
}

/// The shingle hashes exact verification compares: like [`gram_hashes`], over 32-bit word
/// hashes (the low half of each word hash, what a scan keeps between passes). Two documents'
/// sets are compared with each other only, so this is no stored format; the Jaccard similarity
/// equals that of [`gram_hashes`] sets unless two different words of a pair share 32 bits.
pub fn verify_gram_hashes(words: &[u32], n: usize, out: &mut Vec<u64>) {
    if words.is_empty() {
        return;
    }
    let n = n.min(words.len());
    out.reserve(words.len() + 1 - n);
    let bytes: std::borrow::Cow<'_, [u8]> = if cfg!(target_endian = "little") {
        // SAFETY: u32 has no padding and every byte pattern is a valid u8; the slice covers
        // exactly the memory of `words` for its lifetime. On little-endian targets these are
        // the words' little-endian bytes.
        std::borrow::Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words))
        })
    } else {
        std::borrow::Cow::Owned(words.iter().flat_map(|w| w.to_le_bytes()).collect())
    };
    for i in 0..=words.len() - n {
        out.push(xxh3_64_with_seed(&bytes[4 * i..4 * (i + n)], SHINGLE_SEED));
    }
}

#[cfg(target_endian = "little")]
/// xxh3-64 (seed 0) of word hashes as little-endian bytes: how a passage occurrence's words
/// are identified (in reports and in `check` baselines).
pub fn words_hash(words: &[u64]) -> u64 {
    if cfg!(target_endian = "little") {
        xxhash_rust::xxh3::xxh3_64(bytemuck_u64(words))
    } else {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        xxhash_rust::xxh3::xxh3_64(&bytes)
    }
}

fn bytemuck_u64(words: &[u64]) -> &[u8] {
    // SAFETY: u64 has no padding and every byte pattern is a valid u8; the slice covers exactly
    // the memory of `words` and borrows it for the same lifetime.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words)) }
}

fn char_shingles(tokens: &Tokens, n: usize, scratch: &mut Scratch, out: &mut Vec<u64>) {
    let joined = &mut scratch.joined;
    joined.clear();
    for i in 0..tokens.len() {
        if i > 0 {
            joined.push(' ');
        }
        joined.push_str(tokens.word(i));
    }
    let chars = &mut scratch.chars;
    chars.clear();
    chars.extend(joined.char_indices().map(|(i, c)| (i, i + c.len_utf8())));
    let n = n.min(chars.len());
    for w in chars.windows(n) {
        let bytes = &joined.as_bytes()[w[0].0..w[n - 1].1];
        out.push(xxh3_64_with_seed(bytes, SHINGLE_SEED));
    }
}

/// The set of shingles of a document: sorted, without repeats. Used for exact Jaccard.
pub fn shingle_set(
    tokens: &Tokens,
    unit: Unit,
    n: usize,
    scratch: &mut Scratch,
    out: &mut Vec<u64>,
) {
    out.clear();
    shingles(tokens, unit, n, scratch, out);
    out.sort_unstable();
    out.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::tokenize;

    #[test]
    fn text_word_hashes_are_the_tokenized_word_hashes() {
        let mut text = "Hello, WORLD_x don\u{2019}t caf\u{e9} \u{6211}\u{4eec} 3.14"
            .as_bytes()
            .to_vec();
        text.extend([0xc3, b' ', b'Z']);
        let mut t = Tokens::default();
        tokenize(&text, &mut t);
        let (mut a, mut b) = (Vec::new(), vec![7]);
        word_hashes(&t, &mut a);
        text_word_hashes(&text, &mut Tokens::default(), &mut b);
        assert_eq!(a.len(), 10);
        assert_eq!(a, b);
        let mut spans = Vec::new();
        text_word_hashes_spans_prefix(
            &text,
            usize::MAX,
            0,
            &mut Tokens::default(),
            &mut b,
            &mut spans,
        );
        assert_eq!(a, b);
        let expect: Vec<_> = t.tokens.iter().map(|t| t.span.clone()).collect();
        assert_eq!(spans, expect);
    }

    #[test]
    fn words_hash_is_streamed_xxh3_of_the_little_endian_words() {
        for n in [0, 1, 3, 17, 40, 300] {
            let words: Vec<u64> = (0..n as u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .collect();
            let mut h = xxhash_rust::xxh3::Xxh3Default::new();
            for w in &words {
                h.update(&w.to_le_bytes());
            }
            assert_eq!(words_hash(&words), h.digest(), "{n} words");
        }
    }

    #[test]
    fn a_prefix_has_the_words_of_the_whole_text() {
        // ASCII, simple Latin and Cyrillic, general-path pieces (CJK, an apostrophe, a
        // decimal), invalid UTF-8 and runs of whitespace, cut at every guess.
        let mut text =
            "Hello, WORLD_x  don\u{2019}t caf\u{e9}\t\u{6211}\u{4eec} 3.14 \u{43f}\u{440}\u{438}\n"
                .repeat(5)
                .into_bytes();
        text.extend([0xc3, b' ', b'Z', b'.', b' ', b'e', 0xcc, 0x81]);
        // The whole text's words, from the general tokenizer.
        let mut t = Tokens::default();
        tokenize(&text, &mut t);
        let mut all = Vec::new();
        word_hashes(&t, &mut all);
        let all_spans: Vec<_> = t.tokens.iter().map(|t| t.span.clone()).collect();
        assert!(all.len() > 40);
        for n in [0, 1, 2, 7, all.len() - 1, all.len(), all.len() + 5] {
            for guess in 0..=text.len() + 1 {
                let (mut h, mut sp) = (vec![1], std::iter::once(0..1).collect::<Vec<_>>());
                text_word_hashes_spans_prefix(&text, n, guess, &mut t, &mut h, &mut sp);
                assert!(h.len() >= n.min(all.len()), "n {n} guess {guess}");
                assert_eq!(h, all[..h.len()], "n {n} guess {guess}");
                assert_eq!(sp, all_spans[..h.len()], "n {n} guess {guess}");
            }
        }
    }

    /// The reference gram hash: xxh3 of the concatenated little-endian bytes of each window.
    fn hash_windows(le_words: &[Vec<u8>], n: usize) -> Vec<u64> {
        le_words
            .windows(n)
            .map(|w| xxh3_64_with_seed(&w.concat(), SHINGLE_SEED))
            .collect()
    }

    #[test]
    fn verification_grams_hash_32_bit_windows() {
        let words = [1u32, 0x0102_0304, u32::MAX];
        let mut out = Vec::new();
        verify_gram_hashes(&words, 2, &mut out);
        let le: Vec<Vec<u8>> = words.iter().map(|w| w.to_le_bytes().to_vec()).collect();
        assert_eq!(out, hash_windows(&le, 2));
        out.clear();
        verify_gram_hashes(&words, 9, &mut out);
        assert_eq!(out.len(), 1);
        verify_gram_hashes(&[], 5, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn gram_hashes_hash_little_endian_windows() {
        let words = [1u64, 0x0102_0304_0506_0708, u64::MAX, 42];
        let mut out = Vec::new();
        gram_hashes(&words, 2, &mut Vec::new(), &mut out);
        let le: Vec<Vec<u8>> = words.iter().map(|w| w.to_le_bytes().to_vec()).collect();
        assert_eq!(out, hash_windows(&le, 2));
        out.clear();
        gram_hashes(&words[..1], 5, &mut Vec::new(), &mut out);
        assert_eq!(out, [xxh3_64_with_seed(&1u64.to_le_bytes(), SHINGLE_SEED)]);
    }

    fn shingle_vec(text: &str, unit: Unit, n: usize) -> Vec<u64> {
        let mut t = Tokens::default();
        tokenize(text.as_bytes(), &mut t);
        let mut out = Vec::new();
        shingles(&t, unit, n, &mut Scratch::default(), &mut out);
        out
    }

    #[test]
    fn one_shingle_per_window() {
        assert_eq!(shingle_vec("a b c d e f g", Unit::Word, 5).len(), 3);
        assert_eq!(shingle_vec("abcdefg", Unit::Char, 5).len(), 3);
        // "ab cd" is five characters with the joining space.
        assert_eq!(shingle_vec("ab cd", Unit::Char, 5).len(), 1);
    }

    #[test]
    fn short_documents_get_one_shingle_and_empty_ones_none() {
        assert_eq!(shingle_vec("just three words", Unit::Word, 5).len(), 1);
        assert!(shingle_vec("", Unit::Word, 5).is_empty());
        assert!(shingle_vec("!!!", Unit::Char, 5).is_empty());
    }

    #[test]
    fn formatting_differences_do_not_change_shingles() {
        let a = shingle_vec(
            "The quick brown fox jumps over the lazy dog.",
            Unit::Word,
            5,
        );
        let b = shingle_vec(
            "the QUICK brown\n\nfox -- jumps over the lazy dog",
            Unit::Word,
            5,
        );
        assert_eq!(a, b);
        let c = shingle_vec("The quick brown fox jumps", Unit::Char, 5);
        let d = shingle_vec("the   quick, brown fox JUMPS!", Unit::Char, 5);
        assert_eq!(c, d);
    }

    #[test]
    fn hashes_are_a_stable_format() {
        // Pinned: an index written by one build must be readable by the next.
        let v = shingle_vec("one two three four five", Unit::Word, 5);
        let expected = {
            let mut bytes = Vec::new();
            for w in ["one", "two", "three", "four", "five"] {
                bytes.extend_from_slice(&xxh3_64_with_seed(w.as_bytes(), WORD_SEED).to_le_bytes());
            }
            xxh3_64_with_seed(&bytes, SHINGLE_SEED)
        };
        assert_eq!(v, [expected]);
        // And the constants themselves: this value may only change with a format version.
        assert_eq!(v, [0x3d73_3a0d_d076_6d7a]);
    }

    #[test]
    fn shingle_sets_are_sorted_and_unique() {
        let mut t = Tokens::default();
        tokenize(b"a b a b a b a b", &mut t);
        let mut out = Vec::new();
        shingle_set(&t, Unit::Word, 2, &mut Scratch::default(), &mut out);
        assert_eq!(out.len(), 2);
        assert!(out[0] < out[1]);
    }
}
