#!/usr/bin/env python3
"""Turn a dupsift JSON report into the inputs of the shared accuracy scorer:
clusters.tsv ("id<TAB>cluster" per member of a multi-document cluster: what a cleanup
removes), components.tsv (the same by connected component, as score.py's pair recall counts
pairs) and passages.jsonl ({"occurrences": [{"doc", "start", "end"}, ...]} per repeated
passage).

    report_to_eval.py REPORT.json OUT_DIR
"""
import json
import os
import sys

report = json.load(open(sys.argv[1]))
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
for name, label in (("clusters.tsv", "id"), ("components.tsv", "component")):
    with open(os.path.join(out, name), "w") as f:
        for c in report["clusters"]:
            for doc in [c["kept"]] + [m["doc"] for m in c["members"]]:
                f.write(f"{doc}\t{c.get(label, c['id'])}\n")
with open(os.path.join(out, "passages.jsonl"), "w") as f:
    for p in report["passages"]:
        occ = [{"doc": o["doc"], "start": o["start"], "end": o["end"]} for o in p["occurrences"]]
        f.write(json.dumps({"occurrences": occ}) + "\n")
