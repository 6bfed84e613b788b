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
/// with their folded forms and byte spans, without keeping them. Pure ASCII is folded byte by
/// byte without building [`Tokens`] (the hot path of signing, verification and locating
/// passages); other pieces go through the general path in `scratch`.
pub fn fold_words(text: &[u8], scratch: &mut Tokens, mut each: impl FnMut(&[u8], Range<usize>)) {
    let mut buf = Vec::with_capacity(64);
    if text.is_ascii() {
        ascii_folded(text, 0, &mut buf, &mut each);
        return;
    }
    let mut i = 0;
    while i < text.len() {
        while i < text.len() && text[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < text.len() && !text[i].is_ascii_whitespace() {
            i += 1;
        }
        // Invalid UTF-8 never holds an ASCII byte, so a piece between ASCII whitespace decodes
        // (and segments) as it does inside the whole text.
        let piece = &text[start..i];
        if piece.is_ascii() {
            ascii_folded(piece, start, &mut buf, &mut each);
        } else {
            tokenize(piece, scratch);
            for (w, t) in scratch.tokens.iter().enumerate() {
                each(
                    scratch.word(w).as_bytes(),
                    start + t.span.start..start + t.span.end,
                );
            }
        }
    }
}

/// Byte classes of the ASCII path: 0 ends a word, 1 is `_` (joins, folds to nothing), any
/// other value is the byte's lowercase form.
const ASCII_FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] = c.to_ascii_lowercase();
        } else if c == b'_' {
            t[b] = 1;
        }
        b += 1;
    }
    t
};

/// The ASCII rule of [`ascii_words`], folded as [`fold_word`] folds ASCII; spans are offset by
/// `base`.
#[inline]
fn ascii_folded(
    b: &[u8],
    base: usize,
    buf: &mut Vec<u8>,
    each: &mut impl FnMut(&[u8], Range<usize>),
) {
    let mut i = 0;
    while i < b.len() {
        if ASCII_FOLD[b[i] as usize] == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let mut plain = true;
        while i < b.len() {
            let f = ASCII_FOLD[b[i] as usize];
            if f == 0 {
                break;
            }
            plain &= f == b[i];
            i += 1;
        }
        let word = &b[start..i];
        let span = base + start..base + i;
        if plain {
            // Already lowercase without `_`: the folded form is the word itself.
            each(word, span);
        } else {
            buf.clear();
            buf.extend(
                word.iter()
                    .map(|&c| ASCII_FOLD[c as usize])
                    .filter(|&c| c != 1),
            );
            if !buf.is_empty() {
                each(buf, span);
            }
        }
    }
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

    proptest! {
        #[test]
        fn fold_words_matches_tokenize_on_ascii(text in "[a-zA-Z0-9_:.',; \n\t!?()\"-]{0,60}") {
            prop_assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
        }

        #[test]
        fn fold_words_matches_tokenize_on_mixed_text(text in "[a-zA-Zé0-9_:.',; \u{2019}\u{00a0}\u{301}我们ไทยカナ\n-]{0,60}") {
            prop_assert_eq!(folded_spans(text.as_bytes()), tokenized(text.as_bytes()));
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
