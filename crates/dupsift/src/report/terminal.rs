//! Names from the corpus made safe to print on a terminal: ids, file names and reasons come
//! from the inputs, and a control character in one (an escape sequence, a carriage return, a
//! newline) could retitle or clear the terminal, or forge lines of a report. Such characters,
//! and the Unicode controls that reorder text (bidirectional overrides and isolates), are shown
//! escaped: `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`. Previews replace them instead (they are
//! excerpts, see [`crate::result::preview`]); the JSON, TSV and HTML writers escape in their own
//! syntax and do not use this.
//!
//! This module only rewrites strings; it must not write or decide what is shown.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal raw.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character a terminal would act on escaped; `s` itself when there is none.
pub fn shown(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_borrowed() {
        assert!(matches!(shown("plain/ünï.txt"), Cow::Borrowed(_)));
        assert_eq!(shown("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(shown("id\nfake line\r\t"), "id\\nfake line\\r\\t");
        assert_eq!(shown("\u{85}x\u{202e}y"), "\\u{85}x\\u{202e}y");
        assert_eq!(shown("\x7f"), "\\x7f");
    }
}
