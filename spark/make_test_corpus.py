#!/usr/bin/env python3
"""A deterministic JSONL corpus for the Spark tests: documents of made-up words, 15% of them
near-duplicate variants (2% of words replaced), some exact copies, a few records without an id
(named FILE:LINE), and a few bad records (a line of broken JSON, a record without text, one with
a null text, one document of ~200 KB, a near-duplicate with invalid UTF-8).

    make_test_corpus.py --docs 20000 --out corpus.jsonl
"""
import argparse
import json
import random


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=20000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rng = random.Random(a.seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
                    for _ in range(20000)})
    bases = []
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
