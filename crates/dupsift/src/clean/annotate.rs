//! `--annotate` and `--annotate-only`: the fields a JSONL record is written with
//! ([`Annotate::fields`]), from the scan's clusters, inserted just before the record's closing
//! `}` so that every other byte of the line stays as it was (a byte order mark, invalid UTF-8,
//! spacing, key order, the line ending).
//!
//! A record that already has one of those fields is refused rather than given the field twice
//! (a duplicate key means different things to different JSON readers) or overwritten (the
//! value there may be someone's own data).
//!
//! This module works on one line at a time; it must not decide what is removed or cut, nor
//! read or write files.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::de::IgnoredAny;

use crate::plan::{Annotate, CLUSTER_FIELD, CLUSTER_SIZE_FIELD, DUPLICATE_OF_FIELD};
use crate::result::ScanResult;

/// Each clustered document's cluster, for writing the fields `mode` adds to any record.
pub(super) struct Annotations<'a> {
    result: &'a ScanResult,
    mode: Annotate,
    cluster_of: FxHashMap<u32, u32>,
}

impl<'a> Annotations<'a> {
    pub(super) fn new(result: &'a ScanResult, mode: Annotate) -> Annotations<'a> {
        let mut cluster_of = FxHashMap::default();
        for (i, c) in result.clusters.iter().enumerate() {
            cluster_of.insert(c.kept, i as u32);
            for &(m, _) in &c.members {
                cluster_of.insert(m, i as u32);
            }
        }
        Annotations {
            result,
            mode,
            cluster_of,
        }
    }

    /// What the records are annotated with.
    pub(super) fn mode(&self) -> Annotate {
        self.mode
    }

    /// The values of document `d`'s fields: its cluster (`None` in none), the cluster's size
    /// (1 for a document in none), and, when annotating only, the id of the document its
    /// cluster keeps (`None` for a kept document or one in no cluster).
    pub(super) fn values(&self, d: u32) -> (Option<u32>, u64, Option<&'a str>) {
        let cluster = self
            .cluster_of
            .get(&d)
            .map(|&i| (i, &self.result.clusters[i as usize]));
        let size = cluster.map_or(1, |(_, c)| c.members.len() as u64 + 1);
        let duplicate_of = match cluster {
            Some((_, c)) if self.mode == Annotate::Only && c.kept != d => {
                Some(self.result.docs.id(c.kept))
            }
            _ => None,
        };
        (cluster.map(|(i, _)| i), size, duplicate_of)
    }

    /// The fields of document `d`, as `"name":value` pairs each preceded by a comma.
    fn fields(&self, d: u32) -> Vec<u8> {
        let (cluster, size, duplicate_of) = self.values(d);
        let mut out = Vec::with_capacity(96);
        let mut field = |name: &str, value: &[u8]| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(value);
        };
        match cluster {
            Some(i) => field(CLUSTER_FIELD, i.to_string().as_bytes()),
            None => field(CLUSTER_FIELD, b"null"),
        }
        field(CLUSTER_SIZE_FIELD, size.to_string().as_bytes());
        if self.mode == Annotate::Only {
            match duplicate_of {
                Some(id) => {
                    let id = serde_json::to_vec(id).expect("a string serialises");
                    field(DUPLICATE_OF_FIELD, &id);
                }
                None => field(DUPLICATE_OF_FIELD, b"null"),
            }
        }
        out
    }

    /// `line`, the record of document `d` (with its line ending, if any), with the fields
    /// inserted.
    pub(super) fn annotate(&self, line: &[u8], d: u32) -> Result<Vec<u8>, Refusal> {
        if let Some(field) = existing_field(line, self.mode.fields())? {
            return Err(Refusal::Exists(field));
        }
        insert_fields(line, &self.fields(d)).ok_or(Refusal::NotAnObject)
    }
}

/// Why a record cannot be annotated.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// It already has this field.
    Exists(&'static str),
    /// It is not the JSON object the scan read (the input changed).
    NotAnObject,
}

/// JSON's whitespace (RFC 8259), the only bytes allowed around a value.
fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `line` with `fields` (`,"name":value` pairs) inserted just before the object's closing `}`,
/// without their leading comma when the object is empty. `None` when the line does not end
/// with `}` (whitespace aside).
fn insert_fields(line: &[u8], fields: &[u8]) -> Option<Vec<u8>> {
    let close = line.iter().rposition(|&b| !is_json_space(b))?;
    if line[close] != b'}' {
        return None;
    }
    // In a valid object the last byte before `}` other than whitespace is `{` only when the
    // object has no members (a value never ends with `{`).
    let empty = line[..close]
        .iter()
        .rposition(|&b| !is_json_space(b))
        .is_some_and(|i| line[i] == b'{');
    let fields = if empty { &fields[1..] } else { fields };
    let mut out = Vec::with_capacity(line.len() + fields.len());
    out.extend_from_slice(&line[..close]);
    out.extend_from_slice(fields);
    out.extend_from_slice(&line[close..]);
    Some(out)
}

/// The first of `names` that is a top-level key of the object on `line`.
fn existing_field(line: &[u8], names: &[&'static str]) -> Result<Option<&'static str>, Refusal> {
    // A key spells a name either literally or with a `\u` escape: a line with neither cannot
    // hold one, and is not parsed again (most lines, unless the writer escapes non-ASCII).
    let literal = memchr::memmem::find(line, b"dupsift_").is_some();
    if !literal && memchr::memmem::find(line, b"\\u").is_none() {
        return Ok(None);
    }
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    // As the reader did: invalid UTF-8 replaced, which changes no key we look for.
    let text = String::from_utf8_lossy(line);
    let keys: BTreeMap<String, IgnoredAny> =
        serde_json::from_str(&text).map_err(|_| Refusal::NotAnObject)?;
    Ok(names.iter().copied().find(|n| keys.contains_key(*n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[u8] = b",\"k\":1";

    #[test]
    fn fields_go_before_the_closing_brace_and_nothing_else_moves() {
        let ins = |l: &[u8]| insert_fields(l, F).map(|v| String::from_utf8_lossy(&v).into_owned());
        assert_eq!(ins(b"{\"a\": 1}\n").unwrap(), "{\"a\": 1,\"k\":1}\n");
        assert_eq!(ins(b"{\"a\": 1}\r\n").unwrap(), "{\"a\": 1,\"k\":1}\r\n");
        assert_eq!(ins(b"{\"a\": 1}").unwrap(), "{\"a\": 1,\"k\":1}");
        assert_eq!(
            ins(b"{\"a\": 1   }  \n").unwrap(),
            "{\"a\": 1   ,\"k\":1}  \n"
        );
        assert_eq!(
            ins(b"{\"a\": {\"b\": {}}}").unwrap(),
            "{\"a\": {\"b\": {}},\"k\":1}"
        );
        assert_eq!(ins(b"{}\n").unwrap(), "{\"k\":1}\n");
        assert_eq!(ins(b"{ \t }").unwrap(), "{ \t \"k\":1}");
        assert_eq!(ins(b"{\"a\": \"{\"}").unwrap(), "{\"a\": \"{\",\"k\":1}");
        assert_eq!(ins(b"[1]"), None);
        assert_eq!(ins(b"  \n"), None);
        let odd = b"\xEF\xBB\xBF{\"m\": \"\xff\"}\n";
        assert_eq!(
            insert_fields(odd, F).unwrap(),
            b"\xEF\xBB\xBF{\"m\": \"\xff\",\"k\":1}\n"
        );
    }

    #[test]
    fn existing_fields_are_found_however_they_are_spelled() {
        let names = Annotate::Only.fields();
        let find = |l: &[u8]| existing_field(l, names);
        assert_eq!(find(b"{\"text\": \"a\"}"), Ok(None));
        assert_eq!(
            find(b"{\"dupsift_cluster_size\": 2}"),
            Ok(Some(CLUSTER_SIZE_FIELD))
        );
        assert_eq!(
            find(b"{\"dupsift\\u005fcluster\": 2}"),
            Ok(Some(CLUSTER_FIELD))
        );
        // Nested keys and values are not fields of the record.
        assert_eq!(
            find(b"{\"a\": {\"dupsift_cluster\": 1}, \"b\": \"dupsift_cluster\"}"),
            Ok(None)
        );
        assert_eq!(
            find(b"\xEF\xBB\xBF{\"x\": \"\xff\", \"dupsift_duplicate_of\": null}\r\n"),
            Ok(Some(DUPLICATE_OF_FIELD))
        );
        assert_eq!(
            existing_field(b"{\"dupsift_duplicate_of\": 1}", Annotate::Kept.fields()),
            Ok(None)
        );
        assert_eq!(find(b"{\"dupsift_cluster\": "), Err(Refusal::NotAnObject));
    }
}
