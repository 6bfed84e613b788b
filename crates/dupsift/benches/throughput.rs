//! Micro-benchmarks of the per-document stages (criterion, with byte throughput): tokenising,
//! shingling (general tokenizer and the folded-word-hash path the pipeline runs), MinHash
//! signing (dispatched and portable kernels, one-permutation hashing) and band keys.
//! Run with `cargo bench --bench throughput`.

#[path = "support/synth.rs"]
mod synth;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dupsift::lsh::band_keys;
use dupsift::minhash::{MinHasher, Scheme};
use dupsift::shingle::{Scratch, Unit, gram_hashes, shingles, text_word_hashes};
use dupsift::tokenize::{Tokens, tokenize};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut rng = synth::Rng(1);
    let words = synth::Words::new(20_000, &mut rng);
    let docs: Vec<String> = (0..256).map(|_| words.document(&mut rng, 170)).collect();
    let bytes: u64 = docs.iter().map(|d| d.len() as u64).sum();

    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(bytes));
    let mut tokens = Tokens::default();
    g.bench_function("tokenize", |b| {
        b.iter(|| {
            for d in &docs {
                tokenize(black_box(d.as_bytes()), &mut tokens);
            }
        })
    });

    let mut scratch = Scratch::default();
    let mut hashes = Vec::new();
    g.bench_function("tokenize+shingle", |b| {
        b.iter(|| {
            for d in &docs {
                tokenize(d.as_bytes(), &mut tokens);
                hashes.clear();
                shingles(&tokens, Unit::Word, 5, &mut scratch, &mut hashes);
            }
        })
    });

    // What signing and verification run: folded word hashes straight from the bytes.
    let mut words = Vec::new();
    g.bench_function("word-hashes", |b| {
        b.iter(|| {
            for d in &docs {
                text_word_hashes(black_box(d.as_bytes()), &mut tokens, &mut words);
            }
        })
    });
    let mut window = Vec::new();
    g.bench_function("word-hashes+5-grams", |b| {
        b.iter(|| {
            for d in &docs {
                text_word_hashes(black_box(d.as_bytes()), &mut tokens, &mut words);
                hashes.clear();
                gram_hashes(&words, 5, &mut window, &mut hashes);
            }
        })
    });

    let sets: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| {
            tokenize(d.as_bytes(), &mut tokens);
            let mut h = Vec::new();
            shingles(&tokens, Unit::Word, 5, &mut scratch, &mut h);
            h
        })
        .collect();
    let hasher = MinHasher::new(128, 42);
    let mut sig = vec![0u32; 128];
    g.bench_function("minhash128", |b| {
        b.iter(|| {
            for s in &sets {
                hasher.sign(black_box(s), &mut sig);
            }
        })
    });
    g.bench_function("minhash128-portable", |b| {
        b.iter(|| {
            for s in &sets {
                hasher.sign_portable(black_box(s), &mut sig);
            }
        })
    });
    let oph = MinHasher::with_scheme(128, 42, Scheme::Oph);
    g.bench_function("minhash128-oph", |b| {
        b.iter(|| {
            for s in &sets {
                oph.sign(black_box(s), &mut sig);
            }
        })
    });
    let mut keys = [0u64; 18];
    g.bench_function("band-keys-18x6", |b| {
        b.iter(|| {
            for _ in &sets {
                band_keys(black_box(&sig), 18, 6, &mut keys);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
