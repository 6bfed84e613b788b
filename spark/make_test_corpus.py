#!/usr/bin/env python3
"""A deterministic JSONL corpus for the Spark tests: documents of made-up words, 15% of them
near-duplicate variants (2% of words replaced), some exact copies, a few records without an id
(named FILE:LINE), and a few bad records (a line of broken JSON, a record without text, one with
a null text, one document of ~200 KB, a near-duplicate with invalid UTF-8).

It also holds chains: paths of documents, each the previous one with 5 words replaced 60 words
apart (different places at each step), so that neighbours are near duplicates (Jaccard ~0.84 on
5-word shingles) and documents two steps apart are not (~0.71). A chain is one connected
component that a cleanup splits into several clusters. Its steps are spread over the corpus,
and a few steps have an exact copy right after them.

    make_test_corpus.py --docs 20000 --out corpus.jsonl
"""
import argparse
import json
import random


# Chains: how many, how many documents each, and one step every CHAIN_EVERY records.
CHAINS, CHAIN_STEPS, CHAIN_EVERY = 40, 5, 100


def chain_step(rng, vocab, words, step):
    """The next document of a chain: ~300 new words, or `words` with 5 words replaced 60 words
    apart, 12 words further at each step (so no two steps share a replaced place)."""
    if words is None:
        return [rng.choice(vocab) for _ in range(rng.randint(300, 310))]
    words = list(words)
    for j in range(5):
        words[5 + 12 * step + 60 * j] = rng.choice(vocab)
    return words


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=20000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rng = random.Random(a.seed)
    # The chains draw from their own generator: the other records do not depend on them.
    chain_rng = random.Random(a.seed + 1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
                    for _ in range(20000)})
    bases = []
    chains = [None] * CHAINS  # each chain's last step (words)
    with open(a.out, "w") as f:
        for i in range(a.docs):
            r = rng.random()
            if bases and r < 0.15:
                words = list(rng.choice(bases))
                for _ in range(max(1, len(words) // 50)):
                    words[rng.randrange(len(words))] = rng.choice(vocab)
            elif bases and r < 0.18:
                words = rng.choice(bases)
            else:
                words = [rng.choice(vocab) for _ in range(rng.randint(60, 400))]
                bases.append(words)
            record = {"id": f"d{i:06d}", "text": " ".join(words)}
            if i % 1000 == 500:
                del record["id"]
            f.write(json.dumps(record) + "\n")
            if i % 5000 == 17:
                f.write('{"id": "broken-%d", "text": "no closing quote}\n' % i)
                f.write(json.dumps({"id": f"notext-{i}", "body": "x"}) + "\n")
                f.write(json.dumps({"id": f"null-{i}", "text": None}) + "\n")
            if i % CHAIN_EVERY == CHAIN_EVERY // 2:
                slot = i // CHAIN_EVERY
                c, step = slot % CHAINS, slot // CHAINS
                if step < CHAIN_STEPS:
                    chains[c] = chain_step(chain_rng, vocab, chains[c], step)
                    text = " ".join(chains[c])
                    f.write(json.dumps({"id": f"chain{c:02d}-{step}", "text": text}) + "\n")
                    if c % 10 == 3 and step in (1, 2):
                        f.write(json.dumps({"id": f"chain{c:02d}-{step}-copy", "text": text})
                                + "\n")
        # Larger than the tests' --max-doc-bytes (100K): reported, not signed.
        f.write(json.dumps({"id": "huge", "text": " ".join(vocab[:30000] * 2)}) + "\n")
    # A copy of a base with an invalid UTF-8 byte between two words: a near-duplicate of it
    # (invalid bytes separate words, in dupsift and, as U+FFFD, after Spark's decoding).
    words = bases[0]
    line = json.dumps({"id": "latin1-copy", "text": " ".join(words[:10]) + " @@ " +
                       " ".join(words[10:])}).encode()
    with open(a.out, "ab") as f:
        f.write(line.replace(b"@@", b"caf\xe9") + b"\n")


if __name__ == "__main__":
    main()
