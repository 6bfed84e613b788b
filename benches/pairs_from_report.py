#!/usr/bin/env python3
"""Print the document pairs a dupsift report implies (every two members of a cluster), one
"id_a id_b" per line: the pairs format of the peer benchmark and of eval scorers. Reads the
`--format tsv` table (recognised by its header) or the JSON report.

The report is scanned, not parsed: a report of a large corpus lists hundreds of MB of passage
occurrences, and building Python objects for them would make this helper, not dupsift, the
largest process the benchmark measures. Strings in JSON hold no unescaped quote, so the first
`"clusters": [` is the top-level array (the summary's "clusters" is a number), the first
`"passages": [` after it ends it, and inside it each cluster's `"kept"` comes before its
members' `"doc"` values."""
import json
import re
import sys

STRING = rb'"((?:[^"\\]|\\.)*)"'
# The table's first columns; later ones (component, ...) may follow.
TSV_HEADER = b"cluster\tkept\tdoc\t"
UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
with open(sys.argv[1], "rb") as f:
    text = f.read()  # bytes: a str of non-ASCII text would take up to four times as much
if text.startswith(TSV_HEADER):
    escaped = re.compile(r"\\[\\tnr]")

    def unescape(field):
        return escaped.sub(lambda m: UNESCAPE[m.group()], field) if "\\" in field else field

    clusters = {}
    body = text[text.index(b"\n") + 1:]
    for line in body.decode("utf-8").splitlines():
        c, kept, doc, _ = line.split("\t", 3)
        members = clusters.get(c)
        if members is None:
            members = clusters[c] = [unescape(kept)]
        members.append(unescape(doc))
    out = []
    for ids in clusters.values():
        for i, a in enumerate(ids):
            out.extend(f"{a} {b}\n" for b in ids[i + 1:])
    sys.stdout.write("".join(out))
    sys.exit(0)
start = re.search(rb'"clusters":\s*\[', text)
end = re.compile(rb'"passages":\s*\[').search(text, start.end())
stop = end.start() if end else len(text)
field = re.compile(rb'"(kept|doc)":\s*' + STRING)
out = sys.stdout


def flush(ids):
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            out.write(f"{a} {b}\n")


ids = []
for m in field.finditer(text, start.end(), stop):
    value = json.loads(b'"' + m.group(2) + b'"')
    if m.group(1) == b"kept":
        flush(ids)
        ids = [value]
    else:
        ids.append(value)
flush(ids)
