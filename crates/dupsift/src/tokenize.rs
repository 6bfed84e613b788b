//! Stage 2b: split a document's original bytes into words, each with its byte span in those bytes
//! and its folded form (see [`crate::normalize`]).
//!
//! Word boundaries are Unicode's (UAX #29), so text without spaces still splits: each Chinese
//! or Japanese ideograph, and each Thai character, is a word of its own, and word n-grams over
//! them behave like character n-grams. Inside a UAX #29 segment, the punctuation that UAX #29
//! lets through (apostrophes, periods, colons, commas between letters or digits) separates words
//! as well: `don't` is `don t`, `test.c` is `test c`, `3.14` is `3 14`. That is what `\w+`
//! tokenisers do, so similarities agree with the usual tooling, and a stray comma (`test,.c`)
//! changes one word, not two. `_` joins like a letter, and combining marks stay with their base.
//! Invalid UTF-8 bytes separate words and are otherwise ignored, so spans always point into the
//! original bytes.
//!
//! Pure ASCII runs (the bulk of most corpora) take a fast path: there the rule is exactly
//! "maximal runs of `[A-Za-z0-9_]` holding a letter or digit"; a property test checks it against
//! the general path.
//!
//! This stage must not hash or keep the document: [`Tokens`] is scratch space reused per thread.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use crate::normalize::fold_word;

/// One word: where it is in the original bytes and where its folded form is in [`Tokens::folded`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// Byte range of the word in the document's original bytes.
    pub span: Range<usize>,
    /// Byte range of the folded word in [`Tokens::folded`].
    pub folded: Range<usize>,
}

/// The words of one document. Reuse one value per thread: [`tokenize`] clears it.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    /// All folded words, concatenated.
    pub folded: String,
    /// The words in document order.
    pub tokens: Vec<Token>,
    ascii: AsciiScratch,
}

impl Tokens {
    /// The folded form of word `i`.
    pub fn word(&self, i: usize) -> &str {
        &self.folded[self.tokens[i].folded.clone()]
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the document has no words.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    fn push(&mut self, word: &str, start: usize) {
        let f0 = self.folded.len();
        if fold_word(word, &mut self.folded) > 0 {
            self.tokens.push(Token {
                span: start..start + word.len(),
                folded: f0..self.folded.len(),
            });
        }
    }
}

/// Splits `text` into words, replacing the contents of `out`.
pub fn tokenize(text: &[u8], out: &mut Tokens) {
    out.folded.clear();
    out.tokens.clear();
    let mut base = 0;
    for chunk in text.utf8_chunks() {
        let valid = chunk.valid();
        for (start, piece) in split_ascii_whitespace_indices(valid) {
            if piece.is_ascii() {
                ascii_words(piece, base + start, out);
            } else {
                for (i, segment) in piece.unicode_word_indices() {
                    segment_words(segment, base + start + i, out);
                }
            }
        }
        base += valid.len() + chunk.invalid().len();
    }
}

/// Calls `each(folded, span)` for every word of `text`, in order: the words [`tokenize`] finds,
/// with their folded forms and byte spans, without keeping them. Pure ASCII is folded without
/// building [`Tokens`] (the hot path of signing, verification and locating passages); only the
/// pieces between ASCII whitespace that hold a non-ASCII byte go through the general path in
/// `scratch`.
pub fn fold_words(text: &[u8], scratch: &mut Tokens, mut each: impl FnMut(&[u8], Range<usize>)) {
    let mut ascii = std::mem::take(&mut scratch.ascii);
    let mut i = 0;
    while i < text.len() {
        let Some(k) = first_non_ascii(&text[i..]) else {
            ascii.words(&text[i..], i, &mut each);
            break;
        };
        // The whitespace-delimited piece around the first non-ASCII byte. Invalid UTF-8 never
        // holds an ASCII byte, so the piece decodes (and segments) as it does inside the whole
        // text; everything before it is whole ASCII pieces and whitespace, where words are the
        // same whether found piece by piece or in one run.
        let at = i + k;
        let start = text[i..at]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(i, |w| i + w + 1);
        let end = text[at..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(text.len(), |w| at + w);
        ascii.words(&text[i..start], i, &mut each);
        let piece = &text[start..end];
        if !simple_words(piece, start, &mut ascii.folded, &mut each) {
            tokenize(piece, scratch);
            for (w, t) in scratch.tokens.iter().enumerate() {
                each(
                    scratch.word(w).as_bytes(),
                    start + t.span.start..start + t.span.end,
                );
            }
        }
        i = end;
    }
    scratch.ascii = ascii;
}

/// How [`simple_words`] treats a character of the Basic Multilingual Plane: [`OTHER`], [`SEPARATOR`]
/// or, for a simple letter, its lowercase form.
fn simple_class() -> &'static [u16] {
    static TABLE: std::sync::OnceLock<Vec<u16>> = std::sync::OnceLock::new();
    TABLE.get_or_init(build_simple_class)
}

/// Needs the general path.
const OTHER: u16 = 0;
/// Never part of a word: not alphanumeric and not a combining mark.
const SEPARATOR: u16 = 1;

/// Blocks searched for simple letters: Latin-1 to Latin Extended-B, Greek and Coptic, Cyrillic,
/// Armenian, Georgian, Latin Extended Additional (Vietnamese) and Greek Extended. Each letter is
/// still tested; the ranges only bound the cost of building the table.
const LETTER_BLOCKS: [std::ops::RangeInclusive<u32>; 5] = [
    0xc0..=0x24f,
    0x370..=0x52f,
    0x531..=0x58f,
    0x10a0..=0x10ff,
    0x1e00..=0x1fff,
];

/// Classifies characters by asking the general path's own building blocks, so the table
/// cannot disagree with them about a single character: a simple letter is alphabetic, its own
/// NFKC form with a one-character lowercase that is too, and UAX #29 joins it to letters, digits,
/// `_` and itself like any ASCII letter. Pairs and longer mixtures are property-tested.
fn build_simple_class() -> Vec<u16> {
    let mut table = vec![OTHER; 0x10000];
    for cp in 0x80..0x10000u32 {
        if let Some(c) = char::from_u32(cp)
            && !c.is_alphanumeric()
            && !is_combining_mark(c)
        {
            table[cp as usize] = SEPARATOR;
        }
    }
    let stable = |c: char| {
        c.is_alphabetic()
            && !is_combining_mark(c)
            && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
            && std::iter::once(c).nfkc().eq(std::iter::once(c))
    };
    let joins = |c: char| {
        ["a{}a", "1{}1", "_{}_", "{}{}"].iter().all(|pattern| {
            let s = pattern.replace("{}", c.encode_utf8(&mut [0; 4]));
            s.unicode_word_indices().map(|(_, w)| w).eq([s.as_str()])
        })
    };
    for cp in LETTER_BLOCKS.into_iter().flatten() {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let mut lower = c.to_lowercase();
        if let (Some(l), None) = (lower.next(), lower.next())
            && (l as u32) < 0x10000
            && stable(c)
            && stable(l)
            && joins(c)
        {
            table[cp as usize] = l as u16;
        }
    }
    table
}

/// The words of a piece (no ASCII whitespace) whose characters are all ASCII, simple letters
/// or separators (see [`build_simple_class`]): there words are the maximal runs of letters,
/// digits and `_`, as in ASCII, and fold character by character. Returns false, having called
/// nothing, for any other piece.
///
/// Such pieces are most non-ASCII text in Latin, Greek and Cyrillic scripts; UAX #29
/// segmentation and NFKC checks cost about as much per piece as hashing a hundred ASCII words.
fn simple_words(
    piece: &[u8],
    base: usize,
    folded: &mut Vec<u8>,
    each: &mut impl FnMut(&[u8], Range<usize>),
) -> bool {
    let Ok(piece) = std::str::from_utf8(piece) else {
        return false;
    };
    let class = simple_class();
    let kind = |c: char| match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => Some(true),
        _ if c.is_ascii() => Some(false),
        _ => match class.get(c as usize).copied().unwrap_or(OTHER) {
            OTHER => None,
            SEPARATOR => Some(false),
            _ => Some(true),
        },
    };
    if !piece.chars().all(|c| kind(c).is_some()) {
        return false;
    }
    let mut start = None;
    for (i, c) in piece
        .char_indices()
        .chain(std::iter::once((piece.len(), ' ')))
    {
        match (kind(c) == Some(true), start) {
            (true, None) => {
                start = Some(i);
                folded.clear();
            }
            (false, Some(s)) => {
                start = None;
                if !folded.is_empty() {
                    each(folded, base + s..base + i);
                }
            }
            _ => {}
        }
        if start.is_some() && c != '_' {
            let l = if c.is_ascii() {
                c.to_ascii_lowercase()
            } else {
                char::from_u32(u32::from(class[c as usize])).expect("a lowercase letter")
            };
            folded.extend_from_slice(l.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    true
}

/// The position of the first byte of `b` above 0x7f.
fn first_non_ascii(b: &[u8]) -> Option<usize> {
    // `is_ascii` checks a word at a time; most text has long ASCII stretches.
    let mut at = 0;
    for c in b.chunks(64) {
        if !c.is_ascii() {
            return c.iter().position(|x| !x.is_ascii()).map(|k| at + k);
        }
        at += c.len();
    }
    None
}

/// Scratch of the ASCII path: per 64 bytes, a bit per byte that belongs to a word
/// (`[A-Za-z0-9_]`) and one per byte that folding changes (`[A-Z_]`).
#[derive(Clone, Debug, Default)]
pub(crate) struct AsciiScratch {
    word: Vec<u64>,
    unplain: Vec<u64>,
    folded: Vec<u8>,
}

impl AsciiScratch {
    /// Calls `each` for the words of ASCII text `b`, spans offset by `base`: the maximal runs of
    /// word bytes that hold something besides `_`, lowercased without `_`.
    ///
    /// Word boundaries come from bit scans over the masks rather than a branch per byte:
    /// words are a few bytes long, so a per-byte loop mispredicts at almost every boundary.
    fn words(&mut self, b: &[u8], base: usize, each: &mut impl FnMut(&[u8], Range<usize>)) {
        if b.is_empty() {
            return;
        }
        byte_masks(b, &mut self.word, &mut self.unplain);
        let word = &self.word;
        let mut i = 0;
        while let Some(start) = next_bit(word, i, true) {
            let end = next_bit(word, start, false).unwrap_or(b.len());
            i = end;
            let w = &b[start..end];
            let span = base + start..base + end;
            if !any_bit(&self.unplain, start, end) {
                each(w, span);
            } else {
                self.folded.clear();
                self.folded
                    .extend(w.iter().filter(|&&c| c != b'_').map(u8::to_ascii_lowercase));
                if !self.folded.is_empty() {
                    each(&self.folded, span);
                }
            }
        }
    }
}

/// The first position at or after `from` whose bit in `masks` is `set`.
#[inline]
fn next_bit(masks: &[u64], from: usize, set: bool) -> Option<usize> {
    let mut blk = from / 64;
    let flip = if set { 0 } else { u64::MAX };
    let mut m = (*masks.get(blk)? ^ flip) & (u64::MAX << (from % 64));
    loop {
        if m != 0 {
            return Some(blk * 64 + m.trailing_zeros() as usize);
        }
        blk += 1;
        m = *masks.get(blk)? ^ flip;
    }
}

/// Whether any bit of positions `start..end` is set in `masks`.
#[inline]
fn any_bit(masks: &[u64], start: usize, end: usize) -> bool {
    let (first, last) = (start / 64, (end - 1) / 64);
    let lo = u64::MAX << (start % 64);
    let hi = u64::MAX >> (63 - (end - 1) % 64);
    if first == last {
        return masks[first] & lo & hi != 0;
    }
    masks[first] & lo != 0
        || masks[first + 1..last].iter().any(|&m| m != 0)
        || masks[last] & hi != 0
}

/// Fills `word` and `unplain` with one bit per byte of ASCII text `b` (see [`AsciiScratch`]);
/// bits past the end are clear.
fn byte_masks(b: &[u8], word: &mut Vec<u64>, unplain: &mut Vec<u64>) {
    word.clear();
    unplain.clear();
    let mut chunks = b.chunks_exact(64);
    for c in &mut chunks {
        let (w, u) = block_masks(c.try_into().expect("64-byte chunk"));
        word.push(w);
        unplain.push(u);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut block = [b' '; 64];
        block[..tail.len()].copy_from_slice(tail);
        let (w, u) = block_masks(&block);
        word.push(w);
        unplain.push(u);
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn block_masks(block: &[u8; 64]) -> (u64, u64) {
    // SSE2 is part of x86-64 itself, so this needs no run-time check.
    use std::arch::x86_64::*;
    let (mut word, mut unplain) = (0u64, 0u64);
    // SAFETY: SSE2 is always available on x86-64; the loads read 16 bytes inside `block`.
    unsafe {
        // Unsigned "x - lo < n" as a signed comparison after moving the range to -128.
        let in_range = |x: __m128i, lo: u8, n: u8| {
            let shifted = _mm_add_epi8(x, _mm_set1_epi8((128u8.wrapping_sub(lo)) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8((128u8.wrapping_add(n)) as i8))
        };
        for k in 0..4 {
            let x = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let upper = in_range(x, b'A', 26);
            let lower = in_range(x, b'a', 26);
            let digit = in_range(x, b'0', 10);
            let under = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'_' as i8));
            let changed = _mm_or_si128(upper, under);
            let w = _mm_or_si128(_mm_or_si128(lower, digit), changed);
            word |= (_mm_movemask_epi8(w) as u16 as u64) << (16 * k);
            unplain |= (_mm_movemask_epi8(changed) as u16 as u64) << (16 * k);
        }
    }
    (word, unplain)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_masks(block: &[u8; 64]) -> (u64, u64) {
    block_masks_portable(block)
}

/// The reference for [`block_masks`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_portable(block: &[u8; 64]) -> (u64, u64) {
    let (mut word, mut unplain) = (0u64, 0u64);
    for (j, &c) in block.iter().enumerate() {
        let changed = c.is_ascii_uppercase() || c == b'_';
        word |= ((changed || c.is_ascii_lowercase() || c.is_ascii_digit()) as u64) << j;
        unplain |= (changed as u64) << j;
    }
    (word, unplain)
}

/// ASCII whitespace always ends a UAX #29 word, so pieces between it can be segmented alone.
fn split_ascii_whitespace_indices(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            return None;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        Some((start, &s[start..i]))
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Maximal runs of `[A-Za-z0-9_]` that hold a letter or digit.
fn ascii_words(piece: &str, base: usize, out: &mut Tokens) {
    let b = piece.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_word_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_word_byte(b[i]) {
            i += 1;
        }
        out.push(&piece[start..i], base + start);
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

/// Splits one UAX #29 segment at the punctuation inside it.
fn segment_words(segment: &str, base: usize, out: &mut Tokens) {
    let mut start = None;
    for (i, c) in segment.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&segment[s..i], base + s);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&segment[s..], base + s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        let mut t = Tokens::default();
        tokenize(text.as_bytes(), &mut t);
        (0..t.len()).map(|i| t.word(i).to_string()).collect()
    }

    fn spans(text: &[u8]) -> Vec<Range<usize>> {
        let mut t = Tokens::default();
        tokenize(text, &mut t);
        t.tokens.iter().map(|t| t.span.clone()).collect()
    }

    #[test]
    fn english_with_punctuation() {
        assert_eq!(
            words("Hello, World! It's 3.14 -- e.g. snake_case x:y a,b 1,000 ___"),
            [
                "hello",
                "world",
                "it",
                "s",
                "3",
                "14",
                "e",
                "g",
                "snakecase",
                "x",
                "y",
                "a",
                "b",
                "1",
                "000"
            ]
        );
    }

    #[test]
    fn spans_point_into_the_original_bytes() {
        let text = "  Caf\u{e9} “quoted” Russia’s\tend";
        let mut t = Tokens::default();
        tokenize(text.as_bytes(), &mut t);
        let originals: Vec<&str> = t.tokens.iter().map(|t| &text[t.span.clone()]).collect();
        assert_eq!(originals, ["Caf\u{e9}", "quoted", "Russia", "s", "end"]);
        assert_eq!(t.word(0), "caf\u{e9}");
    }

    #[test]
    fn text_without_spaces_splits_into_characters() {
        // Chinese: one word per ideograph.
        assert_eq!(words("我们是学生"), ["我", "们", "是", "学", "生"]);
        // Japanese: hiragana and kanji split per character; katakana runs stay whole (WB13).
        assert_eq!(words("東京はカタカナ"), ["東", "京", "は", "カタカナ"]);
        // Thai has no spaces either and still yields several words.
        assert!(words("ภาษาไทยง่ายนิดเดียว").len() > 5);
    }

    #[test]
    fn invalid_utf8_separates_words_and_keeps_offsets() {
        let text = b"abc\xffdef \xc3 ghi";
        assert_eq!(spans(text), [0..3, 4..7, 10..13]);
    }

    #[test]
    fn empty_and_punctuation_only_inputs_have_no_words() {
        assert!(words("").is_empty());
        assert!(words(" ... --- ___ ").is_empty());
    }

    /// The reference: UAX #29 over the whole text, each segment split at its inner
    /// punctuation with the general (non-ASCII) path.
    fn reference(text: &str) -> Vec<(usize, String)> {
        let mut t = Tokens::default();
        for (i, seg) in text.unicode_word_indices() {
            segment_words(seg, i, &mut t);
        }
        (0..t.len())
            .map(|i| (t.tokens[i].span.start, t.word(i).to_string()))
            .collect()
    }

    fn ours(text: &str) -> Vec<(usize, String)> {
        let mut t = Tokens::default();
        tokenize(text.as_bytes(), &mut t);
        (0..t.len())
            .map(|i| (t.tokens[i].span.start, t.word(i).to_string()))
            .collect()
    }

    fn folded(text: &[u8]) -> Vec<String> {
        folded_spans(text).into_iter().map(|w| w.0).collect()
    }

    fn folded_spans(text: &[u8]) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        fold_words(text, &mut Tokens::default(), |w, span| {
            out.push((String::from_utf8(w.to_vec()).unwrap(), span))
        });
        out
    }

    fn tokenized(text: &[u8]) -> Vec<(String, Range<usize>)> {
        let mut t = Tokens::default();
        tokenize(text, &mut t);
        (0..t.len())
            .map(|i| (t.word(i).to_string(), t.tokens[i].span.clone()))
            .collect()
    }

    #[test]
    fn folded_words_skip_underscore_only_runs() {
        assert_eq!(folded(b"__ A_b snake_CASE x"), ["ab", "snakecase", "x"]);
        let mut text = "Caf\u{e9}\u{a0}DON'T \u{2019}x".as_bytes().to_vec();
        text.extend([0xff, b'Y']);
        assert_eq!(folded(&text), ["caf\u{e9}", "don", "t", "x", "y"]);
    }

    #[test]
    fn words_crossing_mask_blocks() {
        for text in [
            format!("{}B{} x", "a".repeat(63), "c".repeat(70)),
            format!("{} {}", "a".repeat(64), "Q".repeat(200)),
            format!("{}_ {}", "_".repeat(127), "x_Y".repeat(50)),
            format!("{}\u{2019}s {}", "W".repeat(100), "z".repeat(64)),
        ] {
            assert_eq!(
                folded_spans(text.as_bytes()),
                tokenized(text.as_bytes()),
                "{text}"
            );
        }
    }

    #[test]
    fn simple_letter_table() {
        let class = |c: char| simple_class()[c as usize];
        assert_eq!(class('\u{e9}'), '\u{e9}' as u16);
        assert_eq!(class('\u{c9}'), '\u{e9}' as u16);
        assert_eq!(class('Я'), 'я' as u16);
        assert_eq!(class('Ω'), 'ω' as u16);
        assert_eq!(class('Ễ'), 'ễ' as u16);
        // Lowercases to two characters, is a compatibility form, or is not a UAX #29 letter.
        for c in [
            '\u{130}', '\u{17f}', '\u{149}', '\u{b2}', '\u{b5}', '\u{301}', '中', 'ア', 'ก',
        ] {
            assert_eq!(class(c), OTHER, "{c:?}");
        }
        for c in ['─', '\u{2019}', '«', '\u{a0}', '\u{ad}', '\u{200d}', '€'] {
            assert_eq!(class(c), SEPARATOR, "{c:?}");
        }
    }

    #[test]
    fn simple_letters_fold_and_join_as_the_general_path_does() {
        let letters: Vec<char> = LETTER_BLOCKS
            .into_iter()
            .flatten()
            .filter_map(char::from_u32)
            .filter(|&c| simple_class()[c as usize] > SEPARATOR)
            .collect();
        assert!(letters.len() > 1000, "{}", letters.len());
        // Neighbours in several orders: every letter next to many others, to digits, `_`,
        // ASCII letters and punctuation that UAX #29 joins across.
        for stride in [1, 2, 7, 31, 101, 499] {
            let mut text = String::new();
            for k in 0..letters.len() {
                text.push(letters[k * stride % letters.len()]);
                text.push_str(["", "A", "_", "7", "'", ".", "\u{2019}", "-", "", " "][k % 10]);
            }
            assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
        }
    }

    proptest! {
        #[test]
        fn fold_words_matches_tokenize_on_latin_greek_cyrillic(
            text in "[a-zA-Z0-9_.,:'\u{2019}\u{a0}\u{ad}\u{200d}\u{301}\u{b2}─«» \n\u{c0}-\u{24f}\u{370}-\u{52f}\u{1e00}-\u{1fff}]{0,80}"
        ) {
            prop_assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
        }

        #[test]
        fn fold_words_matches_tokenize_on_ascii(text in "[a-zA-Z0-9_:.',; \n\t!?()\"-]{0,60}") {
            prop_assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
        }

        #[test]
        fn fold_words_matches_tokenize_on_mixed_text(text in "[a-zA-Zé0-9_:.',; \u{2019}\u{00a0}\u{301}我们ไทยカナ\n-]{0,60}") {
            prop_assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
        }

        #[test]
        fn fold_words_matches_tokenize_across_mask_blocks(text in "([a-zA-Z0-9_]{0,70}[ .,\n\u{2019}é-]{0,3}){0,12}") {
            prop_assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
        }

        #[test]
        fn byte_masks_match_the_portable_reference(bytes in proptest::collection::vec(any::<u8>(), 64)) {
            let block: &[u8; 64] = bytes.as_slice().try_into().unwrap();
            prop_assert_eq!(block_masks(block), block_masks_portable(block));
        }

        #[test]
        fn fold_words_matches_tokenize_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(folded_spans(&bytes), tokenized(&bytes));
        }

        #[test]
        fn ascii_fast_path_matches_the_general_path(text in "[a-zA-Z0-9_:.',; \n\t!?()\"-]{0,40}") {
            prop_assert_eq!(ours(&text), reference(&text));
        }

        #[test]
        fn mixed_text_matches_the_general_path(text in "[a-zé0-9_:.',; \u{2019}\u{00a0}我们ไทยカナ-]{0,40}") {
            prop_assert_eq!(ours(&text), reference(&text));
        }

        #[test]
        fn spans_are_in_bounds_and_ordered(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let s = spans(&bytes);
            for w in s.windows(2) {
                prop_assert!(w[0].end <= w[1].start);
            }
            for r in &s {
                prop_assert!(r.start < r.end && r.end <= bytes.len());
            }
        }
    }
}
