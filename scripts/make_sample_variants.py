#!/usr/bin/env python3
"""Write the planted near-duplicate variants of the sample corpus.

Reads hand-written originals under corpus/prose/ and writes, next to them,
variants with a known kind and amount of editing, plus corpus/feeds/snippets.jsonl.
docs/corpus.md lists every output, the original it comes from, and the measured
word-5-gram Jaccard similarity.

Standard library only. Every random choice comes from random.Random(seed).random()
with a fixed seed per output, so rerunning the script rewrites the same bytes:

    python3 scripts/make_sample_variants.py            # from the repository root
    python3 scripts/make_sample_variants.py --check    # exit 1 if any output differs

Outputs (all relative to corpus/):
  prose/essay-night-trains-edit{02,05,10,25}.txt  2/5/10/25 % of the words replaced
  prose/essay-sourdough-starter-copy.txt          exact byte copy
  prose/essay-sourdough-starter-appended.txt      one sentence appended
  prose/essay-public-library-reformatted.txt      rewrapped, title upper-cased, punctuation changed
  prose/zh-tea-house-variant.txt                  two Chinese characters changed
  prose/fr-marche-du-samedi-sans-accents.txt      accents stripped (ASCII-folded copy)
  feeds/snippets.jsonl                            short records, one exact copy of a prose file,
                                                  one near-duplicate of another record
"""

import argparse
import json
import random
import re
import sys
import textwrap
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

WORD = re.compile(r"[A-Za-z]+")

# Replacement words for the substitution edits: ordinary English so that the edited text
# still reads like prose, and no word is replaced by itself (checked below).
VOCABULARY = [
    "river", "garden", "window", "paper", "morning", "quiet", "green", "station",
    "letter", "small", "bright", "market", "winter", "table", "simple", "harbour",
    "careful", "yellow", "distant", "kitchen", "silver", "narrow", "evening", "bridge",
    "orchard", "gentle", "ordinary", "village", "cloud", "lantern", "basket", "meadow",
    "patient", "copper", "steady", "island", "pocket", "ladder", "shallow", "wooden",
]


def read(rel):
    return (CORPUS / rel).read_text(encoding="utf-8")


def shuffled(n, rng):
    """A permutation of range(n) (Fisher-Yates driven by rng.random() only, which is
    stable across Python versions for an integer seed)."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def match_case(template, word):
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[0].isupper():
        return word[0].upper() + word[1:]
    return word


def substitute_words(text, rate, seed):
    """Replace round(rate * number_of_words) distinct words (ASCII letter runs) by other words."""
    rng = random.Random(seed)
    spans = [m.span() for m in WORD.finditer(text)]
    count = round(rate * len(spans))
    chosen = sorted(shuffled(len(spans), rng)[:count])
    out, last = [], 0
    for idx in chosen:
        start, end = spans[idx]
        old = text[start:end]
        new = old
        while new.lower() == old.lower():
            new = VOCABULARY[int(rng.random() * len(VOCABULARY))]
        out.append(text[last:start])
        out.append(match_case(old, new))
        last = end
    out.append(text[last:])
    return "".join(out)


def reformat(text):
    """Same words, different bytes: title in capitals, paragraphs wrapped at 58 columns and
    indented, straight apostrophes made curly, colons and semicolons changed."""
    paragraphs = text.strip("\n").split("\n\n")
    title, body = paragraphs[0], paragraphs[1:]
    lines = [title.upper(), "=" * len(title), ""]
    for para in body:
        para = para.replace("'", "\u2019").replace(": ", " -- ").replace(";", ",")
        lines.extend(textwrap.wrap(para, width=58, initial_indent="    ", subsequent_indent=""))
        lines.append("")
    return "\n".join(lines)


def replace_once(text, old, new):
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def strip_accents(text):
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Short records written for this corpus. "s06" is replaced by the exact text of
# prose/note-lost-umbrella.txt; "s12" is derived from "s04" below.
SNIPPETS = [
    ("s01", "The bakery on Station Road now opens at seven on Sundays, an hour earlier than before, "
            "and sells its day-old loaves at half price after four in the afternoon."),
    ("s02", "Reminder: the recycling collection moves to Wednesday next week because of the bank holiday. "
            "Please leave bins at the kerb by seven in the morning."),
    ("s03", "A short walk along the sea wall at low tide is the best way to see the wading birds. "
            "Bring binoculars, keep dogs on a lead near the salt marsh, and check the tide table first."),
    ("s04", "The choir is looking for new members, especially tenors and basses. Rehearsals are on "
            "Tuesday evenings in the school hall from half past seven until nine. No audition is needed, "
            "you do not have to read music, and the first three sessions are free, so come along and "
            "see whether singing with other people is something you enjoy. Tea and biscuits are provided "
            "at the break."),
    ("s05", "Lost: a grey tabby cat with a white chest and one white paw, answering to the name of "
            "Pepper. Last seen near the allotments behind the railway line."),
    ("s06", None),
    ("s07", "Our repair café meets on the last Saturday of each month. Bring a broken lamp, a torn coat "
            "or a bicycle with a flat tyre, and volunteers will help you fix it yourself."),
    ("s08", "Road works on the bridge will close one lane between nine and four from Monday to Friday "
            "for two weeks. Buses will run to the normal timetable but may be delayed."),
    ("s09", "週末の朝市では、地元の農家がとれたての野菜や果物を売っています。早く行くと、いちばん新しいものが買えます。"),
    ("s10", "Le club de lecture se réunit le premier jeudi du mois à la médiathèque. Ce mois-ci, "
            "nous parlerons d'un roman policier qui se déroule dans un village de montagne."),
    ("s11", "The swimming pool will be closed for cleaning on the first two days of next month. "
            "Early-morning lane swimming resumes on the Wednesday."),
    ("s12", None),
    ("s13", "Wanted: old jam jars with lids, any size, for the preserves stall at the summer fair. "
            "They can be left in the box outside the church hall."),
    ("s14", "The evening astronomy group will meet in the park if the sky is clear on Friday. "
            "Telescopes are provided; bring a torch with a red filter and warm clothes."),
]


def snippets_jsonl():
    records = dict(SNIPPETS)
    records["s06"] = read("prose/note-lost-umbrella.txt")
    records["s12"] = replace_once(records["s04"], "Tuesday evenings", "Thursday evenings")
    return "".join(
        json.dumps({"id": key, "text": records[key]}, ensure_ascii=False) + "\n"
        for key, _ in SNIPPETS
    )


def outputs():
    trains = read("prose/essay-night-trains.txt")
    starter = read("prose/essay-sourdough-starter.txt")
    library = read("prose/essay-public-library.txt")
    tea = read("prose/zh-tea-house.txt")
    market = read("prose/fr-marche-du-samedi.txt")
    out = {}
    for percent in (2, 5, 10, 25):
        out[f"prose/essay-night-trains-edit{percent:02d}.txt"] = substitute_words(
            trains, percent / 100, seed=20260500 + percent
        )
    out["prose/essay-sourdough-starter-copy.txt"] = starter
    out["prose/essay-sourdough-starter-appended.txt"] = starter + (
        "\nA starter kept this way will outlive the jar it started in, and probably the kitchen too.\n"
    )
    out["prose/essay-public-library-reformatted.txt"] = reformat(library)
    tea_variant = replace_once(tea, "三十多年", "四十多年")
    tea_variant = replace_once(tea_variant, "早上六点", "早上五点")
    out["prose/zh-tea-house-variant.txt"] = tea_variant
    out["prose/fr-marche-du-samedi-sans-accents.txt"] = strip_accents(market)
    out["feeds/snippets.jsonl"] = snippets_jsonl()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args()
    stale = []
    for rel, text in sorted(outputs().items()):
        assert text and text.endswith("\n"), rel
        path = CORPUS / rel
        data = text.encode("utf-8")
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    verb = "differ" if args.check else "written"
    print(f"{len(stale)} file(s) {verb}" + (": " + ", ".join(stale) if stale else ""))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
