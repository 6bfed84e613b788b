//! JSONL: a bounded line reader, and decoding of one line into a document.
//!
//! Invariants:
//! - The line reader never buffers more than `max_doc_bytes + 1` bytes of a line: longer lines are
//!   discarded up to the next newline while only their length is counted.
//! - Line numbers are 1-based; offsets are byte offsets of the line start in the decompressed
//!   stream, so `offset` of line n+1 is `offset` of line n plus its raw length plus the newline.
//! - Decoding extracts only the configured text and id fields (and the field a keep policy ranks
//!   by); other values are skipped without being materialised (millions of lines go through here).

use std::fmt;
use std::io::{self, BufRead};

use memchr::memchr;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Decoded, DocLoc, Document, RawRecord, ReadOptions, Skipped, Source};

const UTF8_BOM: &[u8] = &[0xef, 0xbb, 0xbf];

/// One line as produced by [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// A line within the limit; `bytes` excludes the `\n` and a trailing `\r`.
    Record {
        line: u64,
        offset: u64,
        bytes: Vec<u8>,
    },
    /// A line longer than the limit; `len` is its full length (without `\n` / trailing `\r`).
    TooLong { line: u64, offset: u64, len: u64 },
}

/// Splits a byte stream into lines without ever holding more than `max + 1` bytes of one line.
pub(super) struct LineReader<R> {
    inner: R,
    /// Offset of the next line's first byte.
    pos: u64,
    /// Number of lines returned so far (the next line is `line + 1`).
    line: u64,
    max: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader at the start of a stream.
    pub(super) fn new(inner: R, max: u64) -> Self {
        Self::at(inner, max, 0, 0)
    }

    /// A reader positioned at `pos`, where `lines` lines precede it (used after a seek).
    pub(super) fn at(inner: R, max: u64, pos: u64, lines: u64) -> Self {
        LineReader {
            inner,
            pos,
            line: lines,
            max,
        }
    }

    /// Lines returned so far.
    pub(super) fn lines_read(&self) -> u64 {
        self.line
    }

    /// Offset of the next line's first byte.
    pub(super) fn position(&self) -> u64 {
        self.pos
    }

    /// The next line, or `None` at the end of the stream. A final line without `\n` counts.
    /// On an error, the partial line is lost and the reader should not be used further.
    pub(super) fn next_line(&mut self) -> io::Result<Option<Line>> {
        self.read_line(true)
    }

    /// Like [`next_line`](Self::next_line) but without copying the content: a
    /// [`Line::Record`] comes back with empty `bytes`. For passing over lines nobody wants.
    pub(super) fn skip_line(&mut self) -> io::Result<Option<Line>> {
        self.read_line(false)
    }

    fn read_line(&mut self, keep: bool) -> io::Result<Option<Line>> {
        let offset = self.pos;
        // One extra byte so a line of exactly `max` bytes followed by "\r\n" still fits.
        let cap = self.max.saturating_add(1);
        let mut buf = Vec::new();
        let mut len: u64 = 0;
        let mut overflow = false;
        let mut last = None;
        let mut any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (chunk_len, newline) = match memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            let chunk = &avail[..chunk_len];
            if let Some(&b) = chunk.last() {
                last = Some(b);
            }
            if keep && !overflow {
                if len + chunk_len as u64 > cap {
                    overflow = true;
                    // Give the memory back now: the rest of the line may be gigabytes long.
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            len += chunk_len as u64;
            let used = chunk_len + usize::from(newline);
            self.inner.consume(used);
            self.pos += used as u64;
            if newline {
                break;
            }
        }
        self.line += 1;
        let line = self.line;
        if last == Some(b'\r') {
            len -= 1;
            buf.pop();
        }
        if overflow || len > self.max {
            return Ok(Some(Line::TooLong { line, offset, len }));
        }
        Ok(Some(Line::Record {
            line,
            offset,
            bytes: buf,
        }))
    }
}

/// Decodes one JSONL line of `src` into a document (see [`Decoded`]).
pub(super) fn decode_line(src: &Source, rec: RawRecord, opts: &ReadOptions) -> Decoded {
    let RawRecord { loc, bytes, .. } = rec;
    let mut body: &[u8] = &bytes;
    // Editors on some platforms start files with a BOM; it is not JSON but carries no meaning.
    if loc.offset == 0 {
        body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    }
    let names = FieldNames {
        text: &opts.text_field,
        id: &opts.id_field,
        rank: opts.rank_field.as_deref(),
    };
    match decode_fields(body, names) {
        Record::Blank => Decoded::Blank,
        Record::Skip(reason) => Decoded::Skip(Skipped::at_line(src.name.clone(), loc.line, reason)),
        Record::Doc {
            id,
            text,
            lossy,
            rank,
        } => Decoded::Doc(Document {
            id: id.unwrap_or_else(|| format!("{}:{}", src.name, loc.line)),
            loc,
            text,
            lossy,
            rank,
        }),
    }
}

/// One JSONL record decoded on its own (see [`decode_record`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// Whitespace only: not a record.
    Blank,
    /// Not usable, and why (the reason a scan reports).
    Skip(String),
    /// A document.
    Doc {
        /// The id field, when present (a string, or a number written as JSON).
        id: Option<String>,
        /// The text field's value (invalid UTF-8 in the line replaced by U+FFFD).
        text: Vec<u8>,
        /// The line had invalid UTF-8.
        lossy: bool,
        /// The value of the field a keep policy ranks by, as a number (dates: seconds since
        /// 1970 UTC); `None` when absent, not asked for, or neither a number nor a date.
        rank: Option<f64>,
    },
}

/// The fields a decode looks for.
#[derive(Clone, Copy, Debug)]
pub struct FieldNames<'a> {
    /// The text field.
    pub text: &'a str,
    /// The id field.
    pub id: &'a str,
    /// The field a keep policy ranks by, if any.
    pub rank: Option<&'a str>,
}

/// Decodes the bytes of one JSONL line (without its newline) as a scan decodes each line of a
/// JSONL file, for callers that hold lines rather than files (`dupsift worker`).
pub fn decode_record(body: &[u8], text_field: &str, id_field: &str) -> Record {
    decode_fields(
        body,
        FieldNames {
            text: text_field,
            id: id_field,
            rank: None,
        },
    )
}

/// As [`decode_record`], with the field a keep policy ranks by.
pub fn decode_fields(body: &[u8], names: FieldNames<'_>) -> Record {
    let text_field = names.text;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Record::Blank;
    }
    let lossy_buf;
    let (json, lossy) = match std::str::from_utf8(body) {
        Ok(s) => (s, false),
        Err(_) => {
            lossy_buf = String::from_utf8_lossy(body).into_owned();
            (lossy_buf.as_str(), true)
        }
    };
    let fields = match extract(json, names) {
        Ok(Top::Object(fields)) => fields,
        Ok(Top::NotObject) => return Record::Skip("top-level value is not an object".to_owned()),
        Err(e) => return Record::Skip(format!("malformed JSON: {}", json_error_message(&e))),
    };
    let text = match fields.text {
        Some(TextValue::Str(s)) => s,
        Some(TextValue::Other) => return Record::Skip(format!("{text_field:?} is not a string")),
        None => return Record::Skip(format!("no {text_field:?} field")),
    };
    Record::Doc {
        id: fields.id,
        text: text.into_bytes(),
        lossy,
        rank: fields.rank,
    }
}

/// serde_json's message without its "at line 1 column N" suffix: the line is always 1 here and
/// would be confused with the JSONL line number, which the caller reports separately.
fn json_error_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&suffix) {
        Some(msg) if e.line() > 0 => format!("{msg} (column {})", e.column()),
        _ => full,
    }
}

fn extract(json: &str, names: FieldNames<'_>) -> Result<Top, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let top = TopSeed { names }.deserialize(&mut de)?;
    // Reject trailing garbage such as `{"text":"a"} x` or two objects on one line.
    de.end()?;
    Ok(top)
}

enum Top {
    Object(Fields),
    NotObject,
}

#[derive(Default)]
struct Fields {
    text: Option<TextValue>,
    id: Option<String>,
    rank: Option<f64>,
}

enum TextValue {
    Str(String),
    Other,
}

/// Which configured fields a key names (the same name may be given to several).
struct Key {
    text: bool,
    id: bool,
    rank: bool,
}

struct TopSeed<'a> {
    names: FieldNames<'a>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Top;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut fields = Fields::default();
        let key_seed = || KeySeed { names: self.names };
        // Later duplicates win, as with serde_json::Value.
        while let Some(key) = map.next_key_seed(key_seed())? {
            match (key.text, key.id, key.rank) {
                (true, false, false) => fields.text = Some(map.next_value_seed(TextSeed)?),
                (false, true, false) => fields.id = map.next_value_seed(IdSeed)?,
                (true, true, false) => {
                    let v = map.next_value_seed(TextSeed)?;
                    if let TextValue::Str(s) = &v {
                        fields.id = Some(s.clone());
                    }
                    fields.text = Some(v);
                }
                (false, false, true) => fields.rank = map.next_value_seed(RankSeed)?,
                (false, false, false) => {
                    map.next_value::<IgnoredAny>()?;
                }
                // The ranked field is also the text or id field (rare): read it whole once.
                _ => {
                    let raw: &serde_json::value::RawValue = map.next_value()?;
                    let v: serde_json::Value =
                        serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
                    fields.rank = rank_of_value(&v);
                    if key.text {
                        fields.text = Some(match &v {
                            serde_json::Value::String(s) => TextValue::Str(s.clone()),
                            _ => TextValue::Other,
                        });
                    }
                    if key.id {
                        fields.id = match v {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Number(_) => Some(raw.get().to_owned()),
                            _ => None,
                        };
                    }
                }
            }
        }
        Ok(Top::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(Top::NotObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        Ok(Top::NotObject)
    }
}

struct KeySeed<'a> {
    names: FieldNames<'a>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        // Keys are compared in place: no allocation for the (usual) unescaped key.
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            text: v == self.names.text,
            id: v == self.names.id,
            rank: self.names.rank == Some(v),
        })
    }
}

/// The text value: a string, or anything else (consumed and reported as not a string).
struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = TextValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TextValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextSeed {
    type Value = TextValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TextValue, E> {
        Ok(TextValue::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<TextValue, E> {
        Ok(TextValue::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TextValue, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(TextValue::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TextValue, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(TextValue::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TextValue, E> {
        Ok(TextValue::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TextValue, E> {
        Ok(TextValue::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TextValue, E> {
        Ok(TextValue::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TextValue, E> {
        Ok(TextValue::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<TextValue, E> {
        Ok(TextValue::Other)
    }
}

/// The id value: a string as is, a number as written (`1e2` stays `1e2`, and two integers too
/// large for 64 bits stay two ids); anything else (null, bool, array, object) counts as absent
/// so the document still gets its positional id instead of being lost.
struct IdSeed;

impl<'de> DeserializeSeed<'de> for IdSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        // The value's own bytes: a number parsed into a float would be rendered otherwise.
        let raw = <&'de serde_json::value::RawValue as serde::Deserialize>::deserialize(d)?;
        let raw = raw.get();
        match raw.as_bytes().first() {
            Some(b'"') if !raw.contains('\\') => Ok(Some(raw[1..raw.len() - 1].to_owned())),
            Some(b'"') => serde_json::from_str(raw)
                .map(Some)
                .map_err(de::Error::custom),
            Some(b'-' | b'0'..=b'9') => Ok(Some(raw.to_owned())),
            _ => Ok(None),
        }
    }
}

/// The ranked value: a number as is, a string holding an ISO-8601 date or time as seconds since
/// 1970 UTC; anything else counts as absent (the document ranks last).
struct RankSeed;

impl<'de> DeserializeSeed<'de> for RankSeed {
    type Value = Option<f64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<f64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RankSeed {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<f64>, E> {
        Ok(iso8601_seconds(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<f64>, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<f64>, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<f64>, E> {
        Ok(Some(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<f64>, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<f64>, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<f64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<f64>, E> {
        Ok(None)
    }
}

/// [`RankSeed`]'s reading of a value already parsed.
fn rank_of_value(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => iso8601_seconds(s),
        _ => None,
    }
}

/// Seconds since 1970-01-01T00:00:00Z of an ISO-8601 (RFC 3339) date or date and time:
/// `YYYY-MM-DD`, then optionally `T` (or a space) `hh:mm`, `:ss`, a fraction, and `Z` or an
/// offset `±hh:mm` / `±hhmm` / `±hh`. Without an offset the time is taken as UTC. `None` for
/// anything else, including impossible dates.
pub fn iso8601_seconds(s: &str) -> Option<f64> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0i64, |n, &c| n * 10 + i64::from(c - b'0')))
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm).
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let mut secs = (days * 86_400) as f64;
    let mut rest = &b[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if !matches!(rest[0], b'T' | b't' | b' ') || rest.len() < 6 || rest[3] != b':' {
        return None;
    }
    let two = |x: &[u8]| -> Option<i64> {
        (x.len() >= 2 && x[0].is_ascii_digit() && x[1].is_ascii_digit())
            .then(|| i64::from(x[0] - b'0') * 10 + i64::from(x[1] - b'0'))
    };
    let (h, mi) = (two(&rest[1..3])?, two(&rest[4..6])?);
    rest = &rest[6..];
    let mut sec = 0.0;
    if rest.first() == Some(&b':') {
        sec = two(&rest[1..])? as f64;
        rest = &rest[3..];
        if let Some(&(b'.' | b',')) = rest.first() {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            let frac = std::str::from_utf8(&rest[..=digits])
                .ok()?
                .replace(',', ".");
            sec += frac.parse::<f64>().ok()?;
            rest = &rest[1 + digits..];
        }
    }
    if h > 24 || mi > 59 || sec >= 61.0 {
        return None;
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (oh, om) = match tz {
                [_, _] => (two(tz)?, 0),
                [_, _, b':', _, _] => (two(tz)?, two(&tz[3..])?),
                [_, _, _, _] => (two(tz)?, two(&tz[2..])?),
                _ => return None,
            };
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    secs += (h * 3600 + mi * 60 - offset) as f64 + sec;
    Some(secs)
}

/// Location of line `line` starting at `offset` in source `source`.
pub(super) fn line_loc(source: u32, line: u64, offset: u64) -> DocLoc {
    DocLoc {
        source,
        line,
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Compression, Format};
    use proptest::prelude::*;
    use std::io::{BufReader, Cursor};

    fn lines(input: &[u8], max: u64, bufsize: usize) -> Vec<Line> {
        let mut r = LineReader::new(BufReader::with_capacity(bufsize, Cursor::new(input)), max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().expect("in-memory read") {
            out.push(l);
        }
        out
    }

    fn rec(line: u64, offset: u64, bytes: &[u8]) -> Line {
        Line::Record {
            line,
            offset,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn splits_lines_with_offsets() {
        let got = lines(b"ab\r\n\ncd\nlast", 100, 3);
        assert_eq!(
            got,
            vec![
                rec(1, 0, b"ab"),
                rec(2, 4, b""),
                rec(3, 5, b"cd"),
                rec(4, 8, b"last")
            ]
        );
        assert!(lines(b"", 100, 8).is_empty());
        assert_eq!(lines(b"\n", 100, 8), vec![rec(1, 0, b"")]);
        assert_eq!(lines(b"x\n", 100, 8), vec![rec(1, 0, b"x")]);
    }

    #[test]
    fn long_lines_are_measured_and_skipped() {
        for bufsize in [1, 2, 3, 64] {
            let got = lines(b"12345\n123456\r\n1234567\nok", 5, bufsize);
            assert_eq!(
                got,
                vec![
                    rec(1, 0, b"12345"),
                    Line::TooLong {
                        line: 2,
                        offset: 6,
                        len: 6
                    },
                    Line::TooLong {
                        line: 3,
                        offset: 14,
                        len: 7
                    },
                    rec(4, 22, b"ok"),
                ],
                "bufsize {bufsize}"
            );
            // Exactly `max` bytes plus CRLF fits.
            assert_eq!(lines(b"12345\r\n", 5, bufsize), vec![rec(1, 0, b"12345")]);
        }
        assert_eq!(
            lines(b"x", 0, 8),
            vec![Line::TooLong {
                line: 1,
                offset: 0,
                len: 1
            }]
        );
    }

    proptest! {
        #[test]
        fn line_reader_matches_split(input in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), Just(b'{')], 0..200),
            max in 0u64..20, bufsize in 1usize..16)
        {
            let got = lines(&input, max, bufsize);
            let mut expected = Vec::new();
            let mut offset = 0u64;
            let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            if input.last() == Some(&b'\n') || input.is_empty() {
                parts.pop();
            }
            for (i, part) in parts.iter().enumerate() {
                let content = part.strip_suffix(b"\r").unwrap_or(part);
                let line = i as u64 + 1;
                if content.len() as u64 > max {
                    expected.push(Line::TooLong { line, offset, len: content.len() as u64 });
                } else {
                    expected.push(rec(line, offset, content));
                }
                offset += part.len() as u64 + 1;
            }
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_line(&source(), RawRecord { loc: line_loc(0, 1, 0), bytes, row: None }, &ReadOptions::default());
        }

        #[test]
        fn decode_never_panics_on_jsonish(s in r#"[{}\[\]":,a-z0-9 \\.-]{0,40}"#) {
            let _ = decode_line(&source(), RawRecord { loc: line_loc(0, 1, 0), bytes: s.into_bytes(), row: None }, &ReadOptions::default());
        }
    }

    fn source() -> Source {
        Source {
            path: "x.jsonl".into(),
            name: "x.jsonl".into(),
            format: Format::Jsonl,
            compression: Compression::None,
            size: 0,
            table: None,
        }
    }

    fn decode(line: u64, s: &[u8]) -> Decoded {
        decode_line(
            &source(),
            RawRecord {
                loc: line_loc(0, line, 10),
                bytes: s.to_vec(),
                row: None,
            },
            &ReadOptions::default(),
        )
    }

    fn doc(d: Decoded) -> Document {
        match d {
            Decoded::Doc(d) => d,
            other => panic!("expected a document, got {other:?}"),
        }
    }

    fn skip_reason(d: Decoded) -> String {
        match d {
            Decoded::Skip(s) => {
                assert_eq!(s.path, "x.jsonl");
                assert_eq!(s.line, Some(7));
                s.reason
            }
            other => panic!("expected a skip, got {other:?}"),
        }
    }

    #[test]
    fn decodes_fields() {
        let d = doc(decode(
            7,
            br#"{"x":[1,{"a":null}],"id":"d1","text":"h\u00e9llo \"q\"","y":2}"#,
        ));
        assert_eq!(d.id, "d1");
        assert_eq!(d.text, "héllo \"q\"".as_bytes());
        assert!(!d.lossy);
        assert_eq!(d.loc, line_loc(0, 7, 10));

        assert_eq!(doc(decode(7, br#"{"text":"a","id":42}"#)).id, "42");
        assert_eq!(doc(decode(7, br#"{"text":"a","id":-3}"#)).id, "-3");
        assert_eq!(doc(decode(7, br#"{"text":"a","id":1.5}"#)).id, "1.5");
        assert_eq!(doc(decode(7, br#"{"text":"a"}"#)).id, "x.jsonl:7");
        assert_eq!(doc(decode(7, br#"{"text":"a","id":null}"#)).id, "x.jsonl:7");
        assert_eq!(doc(decode(7, br#"{"text":"a","i\u0064":"esc"}"#)).id, "esc");
        let empty = doc(decode(7, br#"  {"text":""}  "#));
        assert!(empty.text.is_empty());
    }

    /// Issue 18, item 5: a numeric id is kept as written, never rendered again from a float.
    #[test]
    fn numeric_jsonl_ids_are_kept_as_written() {
        let id = |json: &str| doc(decode(1, json.as_bytes())).id;
        for n in [
            "1e2",
            "1E+2",
            "1.50",
            "-0",
            "0.1000",
            "12345678901234567890123",
        ] {
            assert_eq!(id(&format!(r#"{{"id": {n} ,"text":"a"}}"#)), n);
        }
        // Two integers too large for 64 bits stay two ids.
        assert_ne!(
            id(r#"{"id":98765432109876543210987,"text":"a"}"#),
            id(r#"{"id":98765432109876543211000,"text":"a"}"#)
        );
        assert_eq!(id(r#"{"id":"tab\there","text":"a"}"#), "tab\there");
        assert_eq!(id(r#"{"id":true,"text":"a"}"#), "x.jsonl:1");
        // The id field ranked too: read whole once, the id still as written.
        let opts = ReadOptions {
            rank_field: Some("id".into()),
            ..ReadOptions::default()
        };
        let rec = RawRecord {
            loc: line_loc(0, 1, 10),
            bytes: br#"{"id":1e2,"text":"a"}"#.to_vec(),
            row: None,
        };
        let d = doc(decode_line(&source(), rec, &opts));
        assert_eq!((d.id.as_str(), d.rank), ("1e2", Some(100.0)));
    }

    #[test]
    fn custom_and_shared_field_names() {
        let opts = ReadOptions {
            text_field: "body".into(),
            id_field: "body".into(),
            ..ReadOptions::default()
        };
        let d = decode_line(
            &source(),
            RawRecord {
                loc: line_loc(0, 1, 0),
                bytes: br#"{"text":"no","body":"yes"}"#.to_vec(),
                row: None,
            },
            &opts,
        );
        let d = doc(d);
        assert_eq!((d.id.as_str(), d.text.as_slice()), ("yes", &b"yes"[..]));
    }

    #[test]
    fn skips_bad_lines() {
        let r = skip_reason(decode(7, br#"{"text": "a""#));
        assert!(r.starts_with("malformed JSON: "), "{r}");
        assert!(!r.contains("line 1"), "{r}");
        let r = skip_reason(decode(7, br#"{"text":"a"} {"text":"b"}"#));
        assert!(r.starts_with("malformed JSON: trailing characters"), "{r}");
        assert_eq!(
            skip_reason(decode(7, br#"{"id":"a"}"#)),
            r#"no "text" field"#
        );
        assert_eq!(
            skip_reason(decode(7, br#"{"text":3}"#)),
            r#""text" is not a string"#
        );
        assert_eq!(
            skip_reason(decode(7, br#"{"text":{"a":[1]}}"#)),
            r#""text" is not a string"#
        );
        assert_eq!(
            skip_reason(decode(7, br#"{"text":null}"#)),
            r#""text" is not a string"#
        );
        assert_eq!(
            skip_reason(decode(7, br#"["text"]"#)),
            "top-level value is not an object"
        );
        assert_eq!(
            skip_reason(decode(7, br#""text""#)),
            "top-level value is not an object"
        );
        assert_eq!(
            skip_reason(decode(7, b"null")),
            "top-level value is not an object"
        );
        let r = skip_reason(decode(7, r#"{"text":"\ud800"}"#.as_bytes()));
        assert!(r.starts_with("malformed JSON"), "{r}");
        // Deep nesting is skipped over iteratively by serde_json: no stack overflow anywhere.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let d = doc(decode(
            7,
            format!(r#"{{"x":{deep},"text":"a"}}"#).as_bytes(),
        ));
        assert_eq!(d.text, b"a");
        let r = skip_reason(decode(7, format!(r#"{{"text":{deep}}}"#).as_bytes()));
        assert_eq!(r, r#""text" is not a string"#);
        let r = skip_reason(decode(7, deep.as_bytes()));
        assert_eq!(r, "top-level value is not an object");
        let r = skip_reason(decode(7, "[".repeat(100_000).as_bytes()));
        assert!(r.starts_with("malformed JSON: EOF"), "{r}");
    }

    #[test]
    fn blank_and_bom_and_lossy() {
        assert!(matches!(decode(1, b""), Decoded::Blank));
        assert!(matches!(decode(1, b" \t \r"), Decoded::Blank));
        let d = decode_line(
            &source(),
            RawRecord {
                loc: line_loc(0, 1, 0),
                bytes: b"\xef\xbb\xbf{\"text\":\"a\"}".to_vec(),
                row: None,
            },
            &ReadOptions::default(),
        );
        assert_eq!(doc(d).text, b"a");
        let d = doc(decode(7, b"{\"text\":\"a\xffb\"}"));
        assert!(d.lossy);
        assert_eq!(d.text, "a\u{fffd}b".as_bytes());
    }

    #[test]
    fn dates_and_times_are_seconds_since_1970_utc() {
        let at = |s: &str| iso8601_seconds(s);
        assert_eq!(at("1970-01-01"), Some(0.0));
        assert_eq!(at("2000-03-01"), Some(951_868_800.0));
        assert_eq!(at("2024-02-29T12:30:00Z"), Some(1_709_209_800.0));
        // The same instant written with offsets, a space, no seconds, a fraction.
        assert_eq!(at("2024-02-29T14:30:00+02:00"), at("2024-02-29T12:30:00Z"));
        assert_eq!(at("2024-02-29 07:30-0500"), at("2024-02-29T12:30:00Z"));
        assert_eq!(at("2024-02-29T12:30:00.25Z"), Some(1_709_209_800.25));
        assert_eq!(at("1969-12-31T23:59:59Z"), Some(-1.0));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "yesterday",
            "2024-01-01T25",
            "2024-01-01T10:00+5",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    proptest! {
        /// Any text is read as a date or refused, never a panic; a date written from its
        /// parts, with any offset, reads back as the same instant.
        #[test]
        fn dates_are_read_back_or_refused(
            junk in ".{0,40}",
            days in -800_000i64..800_000,
            secs in 0i64..86_400,
            offset_minutes in -14 * 60i64..=14 * 60,
        ) {
            let _ = iso8601_seconds(&junk);
            // The civil date of `days` since 1970 (H. Hinnant's inverse).
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let d = doy - (153 * mp + 2) / 5 + 1;
            let m = if mp < 10 { mp + 3 } else { mp - 9 };
            let y = yoe + era * 400 + i64::from(m <= 2);
            prop_assume!((0..=9999).contains(&y));
            let local = secs + offset_minutes * 60;
            let (day_shift, local) = (local.div_euclid(86_400), local.rem_euclid(86_400));
            prop_assume!(day_shift == 0);
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let text = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
                local / 3600,
                local / 60 % 60,
                local % 60,
                offset_minutes.abs() / 60,
                offset_minutes.abs() % 60
            );
            prop_assert_eq!(iso8601_seconds(&text), Some((days * 86_400 + secs) as f64), "{}", text);
        }
    }

    #[test]
    fn the_ranked_field_is_a_number_or_a_date_else_absent() {
        let rank = |line: &str, field: &str| match decode_fields(
            line.as_bytes(),
            FieldNames {
                text: "text",
                id: "id",
                rank: Some(field),
            },
        ) {
            Record::Doc { rank, id, .. } => (rank, id),
            other => panic!("{other:?}"),
        };
        assert_eq!(rank(r#"{"text":"a","t":3}"#, "t").0, Some(3.0));
        assert_eq!(rank(r#"{"text":"a","t":-1.5e3}"#, "t").0, Some(-1500.0));
        assert_eq!(
            rank(r#"{"text":"a","t":"1970-01-02"}"#, "t").0,
            Some(86_400.0)
        );
        assert_eq!(rank(r#"{"text":"a","t":"soon"}"#, "t").0, None);
        assert_eq!(rank(r#"{"text":"a","t":[1]}"#, "t").0, None);
        assert_eq!(rank(r#"{"text":"a"}"#, "t").0, None);
        // The ranked field may be the id field too: both are read.
        assert_eq!(
            rank(r#"{"text":"a","id":7}"#, "id"),
            (Some(7.0), Some("7".into()))
        );
    }
}
