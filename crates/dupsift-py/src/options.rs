//! Keyword parameters to engine options, validated once: the names and defaults of the CLI's
//! flags (`num_perm` for `--num-perm`, `passages=False` for `--no-passages`, `text`/`id` for
//! `--text-field`/`--id-field`). An unknown name or a value of the wrong type is a
//! `ParameterError` naming it, before anything is read.

use std::str::FromStr;

use dupsift::cluster::{Clustering, KeepPolicy};
use dupsift::minhash::Scheme;
use dupsift::passages::PassageParams;
use dupsift::shingle::Unit;
use dupsift::verify::Verify;
use dupsift::{ParamsBuilder, ScanOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{Kind, error};

/// The range `--min-passage` takes.
const MIN_PASSAGE: std::ops::RangeInclusive<u64> = 16..=100_000;

/// What a call was told: the scan's options and how many threads run it.
pub struct Options {
    /// Detection, reading, strictness.
    pub scan: ScanOptions,
    /// Worker threads; 0: one per core.
    pub threads: usize,
    /// The detection parameters as given (a check against an index looks at them).
    pub given: ParamsBuilder,
}

/// Takes the parameters out of a dict of keyword arguments, one name at a time.
pub struct Params<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
}

impl<'a, 'py> Params<'a, 'py> {
    /// The parameters in `dict` (which is consumed: [`Params::finish`] refuses what is left).
    pub fn new(dict: &'a Bound<'py, PyDict>) -> Self {
        Params { dict }
    }

    /// The value of `name`, removed from the dict, if given and not `None`.
    pub fn take<T>(&self, name: &str, what: &str) -> PyResult<Option<T>>
    where
        T: for<'b> FromPyObject<'b, 'py>,
    {
        let Some(value) = self.dict.get_item(name)? else {
            return Ok(None);
        };
        self.dict.del_item(name)?;
        if value.is_none() {
            return Ok(None);
        }
        match value.extract::<T>() {
            Ok(v) => Ok(Some(v)),
            Err(_) => {
                // The value itself (`-1`, `'x'`) says more than its type (`int`, `str`).
                let mut got = value
                    .repr()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|_| "?".to_owned());
                if got.chars().count() > 40 {
                    got = got.chars().take(40).chain("…".chars()).collect();
                }
                Err(error(
                    Kind::Parameter,
                    format!("{name} must be {what}, not {got}"),
                ))
            }
        }
    }

    /// A string parameter that names one of `choices`.
    pub fn choice<T: Copy>(&self, name: &str, choices: &[(&str, T)]) -> PyResult<Option<T>> {
        let Some(s) = self.take::<String>(name, "a string")? else {
            return Ok(None);
        };
        match choices.iter().find(|(n, _)| *n == s) {
            Some(&(_, v)) => Ok(Some(v)),
            None => {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                Err(error(
                    Kind::Parameter,
                    format!("{name}={s:?}: expected one of {}", names.join(", ")),
                ))
            }
        }
    }

    /// Refuses any parameter left in the dict.
    pub fn finish(self) -> PyResult<()> {
        let mut left: Vec<String> = self
            .dict
            .keys()
            .iter()
            .map(|k| k.str().map(|s| s.to_string()).unwrap_or_default())
            .collect();
        left.sort();
        match left.first() {
            None => Ok(()),
            Some(first) => Err(error(
                Kind::Parameter,
                format!(
                    "unknown parameter {first:?} (the parameters are the CLI's flags, with _ for -: threshold, ngram, unit, num_perm, bands, rows, seed, scheme, verify, keep, prefer, clusters, passages, min_passage, max_occurrences, text, id, max_doc_bytes, zstd_window_log, hidden, gitignore, follow, strict, threads)"
                ),
            )),
        }
    }
}

/// The scan options (and thread count) of the parameters in `p`, validated. Leaves in `p`
/// what is not a scan's.
pub fn scan_options(p: &Params<'_, '_>) -> PyResult<Options> {
    let mut b = ParamsBuilder::default();
    if let Some(v) = p.take("threshold", "a number")? {
        b.threshold = v;
    }
    if let Some(v) = p.take("ngram", "an int")? {
        b.ngram = v;
    }
    if let Some(v) = p.choice("unit", &[("word", Unit::Word), ("char", Unit::Char)])? {
        b.unit = v;
    }
    if let Some(v) = p.take("num_perm", "an int")? {
        b.num_perm = v;
    }
    b.bands = p.take("bands", "an int")?;
    b.rows = p.take("rows", "an int")?;
    if let Some(v) = p.take("seed", "a non-negative int")? {
        b.seed = v;
    }
    let schemes = [("classic", Scheme::Classic), ("oph", Scheme::Oph)];
    if let Some(v) = p.choice("scheme", &schemes)? {
        b.scheme = v;
    }
    let verifies = [("exact", Verify::Exact), ("estimate", Verify::Estimate)];
    if let Some(v) = p.choice("verify", &verifies)? {
        b.verify = v;
    }
    if let Some(s) = p.take::<String>("keep", "a string")? {
        b.keep = KeepPolicy::from_str(&s).map_err(|e| error(Kind::Parameter, e))?;
    }
    b.prefer = prefer(p)?;
    let clusterings = [
        ("threshold", Clustering::Threshold),
        ("components", Clustering::Components),
    ];
    if let Some(v) = p.choice("clusters", &clusterings)? {
        b.clusters = v;
    }
    let passages = p.take::<bool>("passages", "True or False")?.unwrap_or(true);
    let min = p.take::<u64>("min_passage", "an int")?;
    let max_occ = p.take::<usize>("max_occurrences", "an int")?;
    b.passages = match passages {
        false => None,
        true => {
            let d = PassageParams::default();
            let min_words = min.unwrap_or(d.min_words as u64);
            if !MIN_PASSAGE.contains(&min_words) {
                return Err(error(
                    Kind::Parameter,
                    format!(
                        "min_passage={min_words}: expected {} to {} words",
                        MIN_PASSAGE.start(),
                        MIN_PASSAGE.end()
                    ),
                ));
            }
            Some(PassageParams {
                min_words: min_words as usize,
                max_occurrences: max_occ.unwrap_or(d.max_occurrences),
            })
        }
    };
    let params = b
        .build()
        .map_err(|e| error(Kind::Parameter, e.to_string()))?;

    let mut scan = ScanOptions {
        params,
        ..ScanOptions::default()
    };
    let read = &mut scan.read;
    if let Some(v) = p.take("text", "a string")? {
        read.text_field = v;
    }
    if let Some(v) = p.take("id", "a string")? {
        read.id_field = v;
    }
    if let Some(v) = p.take("max_doc_bytes", "an int")? {
        read.max_doc_bytes = v;
    }
    if let Some(v) = p.take::<u32>("zstd_window_log", "an int")? {
        if !(10..=dupsift::corpus::ZSTD_WINDOW_LOG_MAX).contains(&v) {
            return Err(error(
                Kind::Parameter,
                format!(
                    "zstd_window_log must be from 10 to {}, not {v}",
                    dupsift::corpus::ZSTD_WINDOW_LOG_MAX
                ),
            ));
        }
        read.zstd_window_log = v;
    }
    for (name, flag) in [
        ("hidden", &mut read.hidden),
        ("gitignore", &mut read.gitignore),
        ("follow", &mut read.follow_links),
    ] {
        if let Some(v) = p.take(name, "True or False")? {
            *flag = v;
        }
    }
    if let Some(v) = p.take("strict", "True or False")? {
        scan.strict = v;
    }
    let threads = p.take("threads", "a non-negative int")?.unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    dupsift::options::check_threads(threads, cores)
        .map_err(|e| error(Kind::Parameter, format!("threads={threads}: {e}")))?;
    Ok(Options {
        scan,
        threads,
        given: b,
    })
}

/// `prefer`: one glob or a list of them, most preferred first.
fn prefer(p: &Params<'_, '_>) -> PyResult<Vec<String>> {
    let Some(value) = p.dict.get_item("prefer")? else {
        return Ok(Vec::new());
    };
    p.dict.del_item("prefer")?;
    if value.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(one) = value.extract::<String>() {
        return Ok(vec![one]);
    }
    value.extract::<Vec<String>>().map_err(|_| {
        error(
            Kind::Parameter,
            "prefer must be a glob or a list of globs (strings)",
        )
    })
}

/// What a cleanup is told besides the scan's options: `strip_passages` ("none", "self",
/// "all"; default: self when passages are searched, none when annotating only), `annotate`
/// (False, True, or "only"), `compress` ("none", "gz", "zst"; default: as each input) and
/// `force`.
pub fn clean_options(
    p: &Params<'_, '_>,
    scan: &ScanOptions,
    inputs: &[std::path::PathBuf],
) -> PyResult<dupsift::clean::CleanOptions<'static>> {
    use dupsift::clean::{Annotate, CleanOptions, StripPassages};
    use dupsift::corpus::Compression;
    let strips = [
        ("none", StripPassages::None),
        ("self", StripPassages::SelfRepeats),
        ("all", StripPassages::All),
    ];
    let strip = p.choice("strip_passages", &strips)?;
    let annotate = match p.dict.get_item("annotate")? {
        None => Annotate::None,
        Some(v) => {
            p.dict.del_item("annotate")?;
            if let Ok(b) = v.extract::<bool>() {
                if b { Annotate::Kept } else { Annotate::None }
            } else if v.extract::<String>().is_ok_and(|s| s == "only") {
                Annotate::Only
            } else {
                return Err(error(
                    Kind::Parameter,
                    "annotate must be True, False or \"only\"",
                ));
            }
        }
    };
    let codecs = [
        ("none", Compression::None),
        ("gz", Compression::Gzip),
        ("zst", Compression::Zstd),
    ];
    let compress = p.choice("compress", &codecs)?;
    let force = p.take::<bool>("force", "True or False")?.unwrap_or(false);
    let strip_passages = match strip {
        Some(s) => s,
        None if annotate == Annotate::Only => StripPassages::None,
        None => StripPassages::default_for(scan.params.passages.is_some()),
    };
    let options = CleanOptions {
        strip_passages,
        annotate,
        compress,
        force,
        ..CleanOptions::new(inputs, scan)
    };
    dupsift::clean::check_options(&options).map_err(|e| error(Kind::Parameter, e.to_string()))?;
    Ok(options)
}
