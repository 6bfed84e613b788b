//! Stage 2a: fold one word to its comparison form: Unicode NFKC, lowercase, punctuation and other
//! non-alphanumeric characters dropped.
//!
//! The folding is per word so that a word's span in the original bytes stays known (the tokenizer
//! keeps it); nothing here sees whole documents, offsets or hashes. Folding is idempotent:
//! `fold(fold(w)) == fold(w)` (property-tested).

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Appends the folded form of `word` to `out`: NFKC, then lowercase, keeping only alphanumeric
/// characters (`char::is_alphanumeric`, i.e. Unicode Alphabetic or Numeric).
///
/// Returns the number of bytes appended (0 when the word folds to nothing, e.g. `"'"`).
pub fn fold_word(word: &str, out: &mut String) -> usize {
    let before = out.len();
    if word.is_ascii() {
        // The common case: ASCII is NFKC already and lowercases byte by byte.
        out.extend(
            word.bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|b| b.to_ascii_lowercase() as char),
        );
    } else if is_nfkc_quick(word.chars()) == IsNormalized::Yes {
        push_lower_alnum(word.chars(), out);
    } else {
        push_lower_alnum(word.nfkc(), out);
    }
    // Lowercasing can leave a string that NFKC would change again (rare: e.g. a lowercase
    // mapping to a compatibility character); fold once more so the result is stable.
    if !out[before..].is_ascii() && is_nfkc_quick(out[before..].chars()) != IsNormalized::Yes {
        let again: String = out[before..].nfkc().collect();
        out.truncate(before);
        push_lower_alnum(again.chars(), out);
    }
    out.len() - before
}

fn push_lower_alnum(chars: impl Iterator<Item = char>, out: &mut String) {
    for c in chars {
        for l in c.to_lowercase() {
            if l.is_alphanumeric() {
                out.push(l);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fold(w: &str) -> String {
        let mut s = String::new();
        fold_word(w, &mut s);
        s
    }

    #[test]
    fn ascii_words_lose_case_and_punctuation() {
        assert_eq!(fold("Don't"), "dont");
        assert_eq!(fold("e.g"), "eg");
        assert_eq!(fold("snake_case"), "snakecase");
        assert_eq!(fold("3.14"), "314");
        assert_eq!(fold("'"), "");
    }

    #[test]
    fn compatibility_forms_fold_to_their_plain_letters() {
        // Full-width Latin, a ligature and a superscript digit.
        assert_eq!(fold("ＡＢＣ"), "abc");
        assert_eq!(fold("ﬁne"), "fine");
        assert_eq!(fold("x²"), "x2");
        // Composed and decomposed é fold to the same thing.
        assert_eq!(fold("Caf\u{e9}"), fold("Cafe\u{301}"));
        assert_eq!(fold("STRASSE"), "strasse");
        assert_eq!(fold("Ωμέγα"), "ωμέγα");
    }

    #[test]
    fn appends_and_reports_length() {
        let mut s = String::from("x");
        assert_eq!(fold_word("AB", &mut s), 2);
        assert_eq!(s, "xab");
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(w in "\\PC{0,12}") {
            let once = fold(&w);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn folded_text_is_lowercase_alphanumeric(w in "\\PC{0,12}") {
            prop_assert!(fold(&w).chars().all(char::is_alphanumeric));
        }
    }
}
