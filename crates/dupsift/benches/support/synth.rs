//! Deterministic synthetic corpora for the benchmarks: Zipf-distributed words from a fixed
//! vocabulary, about 1 KB per document, with a share of documents planted as edited copies of
//! earlier ones. Shared by the benchmark binaries through `#[path]`.

#![allow(dead_code)]

use std::io::Write;

/// SplitMix64: tiny, seedable, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A vocabulary of pronounceable pseudo-words and a Zipf sampler over it.
pub struct Words {
    words: Vec<String>,
    cdf: Vec<f64>,
}

impl Words {
    pub fn new(n: usize, rng: &mut Rng) -> Words {
        const C: &[u8] = b"bcdfghjklmnprstvwz";
        const V: &[u8] = b"aeiou";
        let words: Vec<String> = (0..n)
            .map(|_| {
                let syl = 1 + rng.below(3) as usize;
                let mut w = String::new();
                for _ in 0..syl {
                    w.push(C[rng.below(C.len() as u64) as usize] as char);
                    w.push(V[rng.below(V.len() as u64) as usize] as char);
                }
                if rng.below(2) == 0 {
                    w.push(C[rng.below(C.len() as u64) as usize] as char);
                }
                w
            })
            .collect();
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for r in 1..=n {
            acc += 1.0 / r as f64;
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Words { words, cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> &str {
        let u = rng.unit();
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .min(self.words.len() - 1);
        &self.words[i]
    }

    pub fn document(&self, rng: &mut Rng, words: usize) -> String {
        let mut s = String::with_capacity(words * 7);
        for i in 0..words {
            if i > 0 {
                s.push(if i % 14 == 0 { '\n' } else { ' ' });
            }
            s.push_str(self.sample(rng));
            if i % 11 == 10 {
                s.push('.');
            }
        }
        s
    }
}

/// Replaces a share `rate` of the words of `doc` with random ones.
pub fn edit(doc: &str, rate: f64, words: &Words, rng: &mut Rng) -> String {
    doc.split(' ')
        .map(|w| {
            if rng.unit() < rate {
                words.sample(rng).to_string()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `docs` JSONL documents of about `words_per_doc` words; 10% are edited copies of an
/// earlier document (edit rates 0–10%). Returns the bytes of text written.
pub fn write_jsonl(path: &std::path::Path, docs: usize, words_per_doc: usize, seed: u64) -> u64 {
    let mut rng = Rng(seed);
    let words = Words::new(20_000, &mut rng);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create corpus"));
    let mut recent: Vec<String> = Vec::new();
    let mut bytes = 0u64;
    for i in 0..docs {
        let text = if !recent.is_empty() && rng.below(10) == 0 {
            let base = &recent[rng.below(recent.len() as u64) as usize];
            let rate = [0.0, 0.01, 0.03, 0.05, 0.1][rng.below(5) as usize];
            edit(base, rate, &words, &mut rng)
        } else {
            let t = words.document(&mut rng, words_per_doc);
            if recent.len() < 1000 {
                recent.push(t.clone());
            } else {
                let k = rng.below(1000) as usize;
                recent[k] = t.clone();
            }
            t
        };
        bytes += text.len() as u64;
        let line = serde_json::json!({"id": format!("doc{i:07}"), "text": text});
        writeln!(out, "{line}").expect("write corpus");
    }
    out.flush().expect("flush corpus");
    bytes
}
