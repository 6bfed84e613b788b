#!/usr/bin/env python3
"""Print the document pairs a dupsift JSON report implies (every two members of a cluster),
one "id_a id_b" per line: the pairs format of the peer benchmark and of eval scorers."""
import json
import sys

report = json.load(open(sys.argv[1]))
out = sys.stdout
for c in report["clusters"]:
    ids = [c["kept"]] + [m["doc"] for m in c["members"]]
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            out.write(f"{a} {b}\n")
