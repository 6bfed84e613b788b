#!/usr/bin/env python3
"""Print the document pairs a dupsift JSON report implies (every two members of a cluster),
one "id_a id_b" per line: the pairs format of the peer benchmark and of eval scorers.

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
with open(sys.argv[1], "rb") as f:
    text = f.read()  # bytes: a str of non-ASCII text would take up to four times as much
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
