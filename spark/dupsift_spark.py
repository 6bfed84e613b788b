#!/usr/bin/env python3
"""dupsift on Apache Spark: near-duplicate clusters of a corpus that outgrows one machine.

Spark reads the corpus, partitions it and shuffles; the per-document work runs in the dupsift
binary itself (`dupsift worker`, built with `cargo build --release --features spark`), called
per partition through DataFrame.mapInArrow, so that this job and `dupsift scan` share one
implementation. Steps (docs/spark.md): number the documents in input order, sign them, group
exact duplicates by content hash, group originals by band key into candidate pairs, verify the
candidates in the worker, join the kept pairs and exact-duplicate links into connected
components with dupsift's union-find on the driver (`dupsift worker components`), and split each
component into clusters around the documents a cleanup keeps, as a scan does (`--clusters`).

    spark-submit --files target/release/dupsift spark/dupsift_spark.py \\
        --input data/*.jsonl --output out/ [--threshold 0.8 --ngram 5 ...]

Writes OUT/report.json (the JSON report `dupsift scan --no-passages` writes for the same files,
byte for byte), OUT/clusters.jsonl (one cluster per line, in the report's order: its component,
kept document and members, in input order), OUT/removed.jsonl (the ids a cleanup removes),
OUT/clean/ (every input record but the removed ones, written by Spark: JSONL lines byte for
byte, or Parquet rows), OUT/skipped.jsonl (records without usable text, with the reason a scan
gives) and OUT/summary.json.

Inputs are named and ordered as `dupsift scan` names and orders them: a file as given, the files
under a directory by path (hidden ones left out), relative to it when it is the only input;
records without an id are `NAME:LINE`.
"""
import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
import urllib.parse

from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Buckets larger than this are linked as a star plus a chain, as `dupsift scan` does (lsh.rs).
MAX_FULL_BUCKET = 64

DETECTION_FLAGS = ("threshold", "ngram", "unit", "num_perm", "bands", "rows", "seed", "scheme")

# What a scan reads as JSONL inside a directory (and the compressed forms Spark can read).
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")

# The first bytes of a file a scan ignores (a UTF-8 byte-order mark).
UTF8_BOM = b"\xef\xbb\xbf"

# A preview reads at most this many bytes of a text (72 characters of up to 8 bytes).
PREVIEW_HEAD = 72 * 8


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", nargs="+", required=True, help="JSONL or Parquet files or directories")
    p.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    p.add_argument("--output", required=True, help="directory for the results (created)")
    p.add_argument("--binary", default="dupsift",
                   help="the dupsift binary: a name shipped with --files, or a path on every node")
    p.add_argument("--text-field", default="text")
    p.add_argument("--id-field", default="id")
    p.add_argument("--max-doc-bytes", default="64M")
    p.add_argument("--threshold", type=float, default=0.8)
    p.add_argument("--ngram", type=int, default=5)
    p.add_argument("--unit", choices=["word", "char"], default="word")
    p.add_argument("--num-perm", type=int, default=128)
    p.add_argument("--bands", type=int)
    p.add_argument("--rows", type=int)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--scheme", choices=["classic", "oph"], default="classic")
    p.add_argument("--keep", choices=["first", "last", "longest", "shortest"], default="first")
    p.add_argument("--clusters", choices=["threshold", "components"], default="threshold",
                   help="threshold: every member is within --threshold of its cluster's kept "
                        "document (a component is split around kept documents); components: one "
                        "cluster per connected component")
    p.add_argument("--no-report", action="store_true",
                   help="skip report.json (it needs the clustered documents' ids and previews "
                        "on the driver, ~0.7 KB each)")
    return p.parse_args(argv)


def uri_key(uri):
    """One spelling of a file URI: Spark and Hadoop write `file:/x`, `file:///x` or %-escapes."""
    u = urllib.parse.unquote(str(uri))
    if u.startswith("file://"):
        u = "file:" + u[len("file://"):]
    return u


def list_inputs(spark, inputs, fmt):
    """The files of `inputs` in scan's order with scan's display names: [(uri, name)], plus
    [(name, reason)] for what cannot be read."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    files, problems = [], []
    single_dir = len(inputs) == 1
    for arg in inputs:
        path = jvm.org.apache.hadoop.fs.Path(arg)
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            problems.append((arg, "no such file or directory"))
            continue
        status = fs.getFileStatus(path)
        if not status.isDirectory():
            files.append((uri_key(status.getPath().toUri()), arg))
            continue
        root = uri_key(status.getPath().toUri()).rstrip("/") + "/"

        def walk(dir_status):
            children = sorted(fs.listStatus(dir_status.getPath()),
                              key=lambda c: c.getPath().getName())
            for c in children:
                name = c.getPath().getName()
                if name.startswith("."):
                    continue
                if c.isDirectory():
                    yield from walk(c)
                else:
                    yield c

        for c in walk(status):
            uri = uri_key(c.getPath().toUri())
            rel = uri[len(root):] if uri.startswith(root) else c.getPath().getName()
            name = rel if single_dir else arg.rstrip("/") + "/" + rel
            if fmt == "parquet" and not rel.lower().endswith((".parquet", ".parq")):
                continue
            if fmt == "jsonl" and not rel.endswith(JSONL_SUFFIXES):
                problems.append((name, "not JSONL: the Spark job reads JSONL or Parquet files"))
                continue
            files.append((uri, name))
    return files, problems


def number_rows(spark, frame, files):
    """Adds `file` (index into `files`), `lineno` (1-based row of its file) and `doc` (position in
    the whole input, scan's order) to a frame read from `files`, without sorting it: rows are
    counted per file block, the few block counts are summed up on the driver."""
    index = {uri: i for i, (uri, _) in enumerate(files)}
    lookup = F.udf(lambda p: index.get(uri_key(p), -1), T.IntegerType())
    rows = frame.select("*", lookup(F.col("_metadata.file_path")).alias("file"),
                        F.col("_metadata.file_block_start").alias("block"),
                        F.monotonically_increasing_id().alias("mono"))
    blocks = rows.groupBy("file", "block").agg(F.count(F.lit(1)).alias("n"),
                                               F.min("mono").alias("first")).collect()
    blocks.sort(key=lambda r: (r["file"], r["block"]))
    table, line, doc, previous = [], 0, 0, None
    for b in blocks:
        if b["file"] != previous:
            line, previous = 0, b["file"]
        table.append((b["file"], b["block"], b["first"], line, doc))
        line += b["n"]
        doc += b["n"]
    offsets = spark.createDataFrame(table, "file int, block long, first long, line0 long, "
                                           "doc0 long")
    return rows.join(F.broadcast(offsets), ["file", "block"]) \
        .withColumn("lineno", F.col("line0") + F.col("mono") - F.col("first") + 1) \
        .withColumn("doc", F.col("doc0") + F.col("mono") - F.col("first")) \
        .drop("block", "mono", "first", "line0", "doc0")


def worker_flags(a):
    flags = ["--max-doc-bytes", str(a.max_doc_bytes), "-j", "1", "--quiet",
             "--clusters", a.clusters]
    for name in DETECTION_FLAGS:
        value = getattr(a, name)
        if value is not None:
            flags += ["--" + name.replace("_", "-"), str(value)]
    return flags


def binary_path(name):
    """The worker binary on this node: shipped with --files, or a path."""
    if os.path.sep not in name:
        try:
            path = SparkFiles.get(name)
        except Exception:  # no SparkContext files: fall back to PATH
            path = None
        if path and os.path.exists(path):
            mode = os.stat(path).st_mode
            if not mode & stat.S_IXUSR:
                os.chmod(path, mode | stat.S_IXUSR)
            return path
    return name


def run_worker(binary, task, flags):
    """A mapInArrow function: pipes a partition's batches through `dupsift worker TASK`."""
    import pyarrow as pa

    def run(batches):
        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return
        proc = subprocess.Popen([binary_path(binary), "worker", task, *flags],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        failure = []

        def feed():
            try:
                with pa.ipc.new_stream(proc.stdin, first.schema) as w:
                    w.write_batch(first)
                    for b in batches:
                        w.write_batch(b)
            except Exception as e:  # the worker stopped; its stderr says why
                failure.append(e)
            finally:
                proc.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            reader = pa.ipc.open_stream(proc.stdout)
            for b in reader:
                yield b
        except Exception:
            pass
        feeder.join()
        err = proc.stderr.read().decode("utf-8", "replace")
        if proc.wait() != 0 or failure:
            raise RuntimeError(f"dupsift worker {task} failed ({proc.returncode}): {err.strip()}")

    return run


def candidate_pairs(docs):
    """Candidate pairs of one bucket (documents sorted), as `dupsift scan` links them."""
    if len(docs) <= MAX_FULL_BUCKET:
        return [(a, b) for i, a in enumerate(docs) for b in docs[i + 1:]]
    first = docs[0]
    out = [(first, b) for b in docs[1:]]
    out += [(a, b) for a, b in zip(docs[1:], docs[2:])]
    return out


def components(binary, edges):
    """Connected components of the edge list with `dupsift worker components` (on the driver):
    each component's documents in input order."""
    import pyarrow as pa

    table = pa.table({"a": pa.array([e[0] for e in edges], pa.int64()),
                      "b": pa.array([e[1] for e in edges], pa.int64())})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    done = subprocess.run([binary_path(binary), "worker", "components", "--quiet"],
                          input=sink.getvalue().to_pybytes(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError("dupsift worker components failed: "
                           + done.stderr.decode("utf-8", "replace").strip())
    groups = {}
    for batch in pa.ipc.open_stream(done.stdout):
        for d, c in zip(batch.column("doc").to_pylist(), batch.column("component").to_pylist()):
            groups.setdefault(c, []).append(d)
    # A scan's order: largest first, then by the smallest member.
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def keep_key(policy, d, size):
    """How `--keep` ranks document `d` (of `size` bytes): the smallest key is kept, as in a
    scan (ties go to the earlier document, except under `last`)."""
    if policy == "last":
        return (0, -d)
    if policy == "longest":
        return (-size, d)
    if policy == "shortest":
        return (size, d)
    return (0, d)


def split(order, original, classes, near):
    """One component split into clusters whose members are all within the threshold of their
    kept document, as a scan splits it: walking `order` (the component's documents, most worth
    keeping first), the first document not yet taken is kept; its exact copies and every not yet
    taken original verified near its original (with their copies) join its cluster. A document
    left with nothing near it forms no cluster. `original[d]`: the first document with d's bytes
    (absent: d itself); `classes[o]`: the documents of the component with original o, sorted;
    `near[o]`: [(original, similarity)] of o's verified pairs. Returns [(kept, [(doc,
    similarity, exact)])], members in input order, in the order the kept documents were chosen."""
    out, taken = [], set()
    for k in order:
        if k in taken:
            continue
        ko = original.get(k, k)
        members = []
        for d in classes[ko]:
            taken.add(d)
            if d != k:
                members.append((d, 1.0, True))
        for n, s in near.get(ko, ()):
            if n in taken:
                continue
            for d in classes[n]:
                taken.add(d)
                members.append((d, s, False))
        if members:
            out.append((k, sorted(members)))
    return out


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName("dupsift").getOrCreate()
    flags = worker_flags(a)

    common = [T.StructField("bytes", T.LongType()), T.StructField("words", T.LongType()),
              T.StructField("shingles", T.LongType()), T.StructField("content_hi", T.LongType()),
              T.StructField("content_lo", T.LongType()),
              T.StructField("keys", T.ArrayType(T.LongType())),
              T.StructField("lossy", T.BooleanType()), T.StructField("error", T.StringType())]
    files, problems = list_inputs(spark, a.input, a.format)
    if not files:
        raise SystemExit("dupsift_spark: no input files" +
                         "".join(f"\n  {n}: {r}" for n, r in problems))
    names = [name for _, name in files]
    file_name = F.udf(lambda i: names[i], T.StringType())
    # Parquet input: the numbered table with all its columns, for the cleaned copy.
    table, columns = None, None
    if a.format == "jsonl":
        # Raw lines, decoded by the worker as `scan` decodes a JSONL file (Spark's own JSON
        # reader would reject a line with invalid UTF-8 that `scan` reads, and name fields
        # differently). The text source keeps a line's bytes; the cast hands them over as is.
        # Lines end at "\n" only, as in a scan ("\r\n" leaves a "\r" that JSON ignores).
        raw = spark.read.option("lineSep", "\n").text([uri for uri, _ in files])
        source = number_rows(spark, raw, files) \
            .select("doc", "file", "lineno", F.col("value").cast("binary").alias("raw"))
        # A byte-order mark opening a file is no part of its first record, as in a scan.
        source = source.select("doc", "file", "lineno", F.when(
            (F.col("lineno") == 1) & (F.substring("raw", 1, 3) == F.lit(UTF8_BOM)),
            F.expr("substring(raw, 4)")).otherwise(F.col("raw")).alias("line"))
        sign_flags = flags + ["--jsonl-lines", "--text-field", a.text_field,
                              "--id-field", a.id_field]
        sign_schema = T.StructType([T.StructField("doc", T.LongType()),
                                    T.StructField("file", T.IntegerType()),
                                    T.StructField("lineno", T.LongType()),
                                    T.StructField("id", T.StringType()),
                                    T.StructField("text", T.BinaryType()),
                                    T.StructField("blank", T.BooleanType())] + common)
    else:
        raw = spark.read.parquet(*[uri for uri, _ in files])
        cols = raw.columns
        text = F.col(a.text_field) if a.text_field in cols else F.lit(None).cast("string")
        ident = F.col(a.id_field).cast("string") if a.id_field in cols else \
            F.lit(None).cast("string")
        numbered = number_rows(spark, raw.select("*", ident.alias("__dupsift_id"),
                                                 text.alias("__dupsift_text")), files)
        table, columns = numbered, cols
        source = numbered.select("doc", "file", "lineno", F.col("__dupsift_id").alias("id"),
                                 F.col("__dupsift_text").alias("text"),
                                 F.col("__dupsift_text").alias("body"))
        text_type = source.schema["text"].dataType
        sign_flags = flags + ["--text-field", "text"]
        # The worker consumes `text`; `body` comes back for verification.
        sign_schema = T.StructType([T.StructField("doc", T.LongType()),
                                    T.StructField("file", T.IntegerType()),
                                    T.StructField("lineno", T.LongType()),
                                    T.StructField("id", T.StringType()),
                                    T.StructField("body", text_type),
                                    T.StructField("blank", T.BooleanType())] + common)
        source = source.withColumn("blank", F.lit(False))
    source = source.cache()
    signed = source.mapInArrow(run_worker(a.binary, "sign", sign_flags), sign_schema) \
        .where(~F.col("blank")) \
        .withColumn("name", file_name(F.col("file"))) \
        .withColumn("id", F.coalesce(F.col("id"),
                                     F.concat(F.col("name"), F.lit(":"), F.col("lineno")))) \
        .cache()
    if "body" in signed.columns:
        signed = signed.withColumnRenamed("body", "text")
    n = signed.count()
    docs = signed.select("doc", "id", F.col("text").cast("binary").alias("text"))

    skipped = signed.where(F.col("error").isNotNull()).select("doc", "file", "lineno", "id", "error")
    good = signed.where(F.col("error").isNull())

    # Exact duplicates: the first document with the same bytes is the original.
    firsts = good.groupBy("content_hi", "content_lo").agg(F.min("doc").alias("original"))
    with_original = good.join(firsts, ["content_hi", "content_lo"])
    exact_links = with_original.where(F.col("doc") != F.col("original")).select(
        F.col("original").alias("a"), F.col("doc").alias("b"))

    # Candidates among originals with shingles: group by (band, key).
    originals = with_original.where((F.col("doc") == F.col("original")) & (F.col("shingles") > 0))
    buckets = originals.select("doc", F.posexplode("keys").alias("band", "key")) \
        .groupBy("band", "key").agg(F.sort_array(F.collect_list("doc")).alias("docs")) \
        .where(F.size("docs") > 1)
    pairs = buckets.rdd.flatMap(lambda r: candidate_pairs(r["docs"])).distinct()
    pair_df = spark.createDataFrame(pairs, T.StructType([
        T.StructField("a", T.LongType(), False), T.StructField("b", T.LongType(), False)]))
    texts = docs.select("doc", "text")
    verify_schema = T.StructType([
        T.StructField("a", T.LongType()), T.StructField("b", T.LongType()),
        T.StructField("similarity", T.DoubleType()), T.StructField("error", T.StringType()),
    ])

    def verify(pairs):
        """Pairs (a, b) with the exact similarity of their texts, as verification computes it."""
        return pairs \
            .join(texts.withColumnRenamed("doc", "a").withColumnRenamed("text", "a_text"), "a") \
            .join(texts.withColumnRenamed("doc", "b").withColumnRenamed("text", "b_text"), "b") \
            .select("a", "b", "a_text", "b_text") \
            .mapInArrow(run_worker(a.binary, "verify", flags), verify_schema)

    verified = verify(pair_df)
    near = verified.where(F.col("similarity") >= a.threshold).select("a", "b", "similarity")

    # Connected components on the driver: the edge list is small next to the corpus. One
    # collect of the exact-duplicate links (no similarity) and the near pairs with theirs.
    links = exact_links.select("a", "b", F.lit(None).cast("double").alias("similarity")) \
        .union(near).collect()
    edges = [(r["a"], r["b"]) for r in links]
    original = {r["b"]: r["a"] for r in links if r["similarity"] is None}
    near_of = {}  # original -> [(original, similarity)], both directions of each near pair
    for r in links:
        if r["similarity"] is not None:
            near_of.setdefault(r["a"], []).append((r["b"], r["similarity"]))
            near_of.setdefault(r["b"], []).append((r["a"], r["similarity"]))
    for v in near_of.values():
        v.sort()
    verified_pairs = len(links) - len(original)
    comps = components(a.binary, edges)
    component_of = spark.createDataFrame([(d, c) for c, g in enumerate(comps) for d in g],
                                         "doc long, component long")
    # One collect of what the driver needs of the clustered documents (their heads only for
    # the report's previews).
    head = [] if a.no_report else [F.substring("text", 1, PREVIEW_HEAD).alias("head")]
    info = {r["doc"]: r for r in good.join(component_of, "doc")
            .select("doc", "id", "bytes", *head).collect()}
    # Each component's documents, most worth keeping first, as `--keep` ranks them in a scan.
    orders = [sorted(g, key=lambda d: keep_key(a.keep, d, info[d]["bytes"])) for g in comps]
    # The clusters in the report's order: (kept, [(doc, similarity, exact)], component).
    clusters = []
    if a.clusters == "threshold":
        # Every member's similarity is its verified pair's: nothing left to verify.
        for c, (g, order) in enumerate(zip(comps, orders)):
            classes = {}
            for d in g:
                classes.setdefault(original.get(d, d), []).append(d)
            clusters += [(k, members, c) for k, members in split(order, original, classes, near_of)]
    else:
        # One cluster per component; each other member's similarity to its kept document,
        # computed as verification computes it.
        kept = [order[0] for order in orders]
        same = lambda d, k: original.get(d, d) == original.get(k, k)  # noqa: E731
        to_kept = spark.createDataFrame([(k, d) for g, k in zip(comps, kept) for d in g
                                         if d != k and not same(d, k)], "a long, b long")
        similarity = {r["b"]: r["similarity"]
                      for r in verify(to_kept).select("b", "similarity").collect()}
        for c, (g, k) in enumerate(zip(comps, kept)):
            clusters.append((k, [(d, 1.0, True) if same(d, k) else (d, similarity[d], False)
                                 for d in g if d != k], c))
    removed = sorted(d for _, members, _ in clusters for d, _, _ in members)
    exact_count = sum(e for _, members, _ in clusters for _, _, e in members)

    skipped_rows = skipped.orderBy("doc").collect()
    os.makedirs(a.output, exist_ok=True)
    totals = {
        "documents": n - len(skipped_rows),
        "bytes": good.agg(F.sum("bytes")).first()[0] or 0,
        "invalid_utf8_documents": good.where(F.col("lossy")).count(),
        "empty_documents": good.where(F.col("shingles") == 0).count(),
        "candidate_pairs": pair_df.count(),
        "verified_pairs": verified_pairs,
        "skipped": [{"path": names[i] if i >= 0 else "?", "line": line, "reason": reason}
                    for i, line, reason in
                    [(r["file"], r["lineno"], r["error"]) for r in skipped_rows]]
                   + [{"path": name, "line": None, "reason": reason} for name, reason in problems],
    }
    report_path = os.path.join(a.output, "report.json")
    if a.no_report:
        report = None
    else:
        report = write_report(a, flags, totals, info, clusters, report_path)

    ids = {d: r["id"] for d, r in info.items()}
    with open(os.path.join(a.output, "clusters.jsonl"), "w") as f:
        for n_out, (k, members, c) in enumerate(clusters):
            f.write(json.dumps({"cluster": n_out, "component": c, "kept": ids[k],
                                "members": [ids[d] for d, _, _ in members]}) + "\n")
    with open(os.path.join(a.output, "removed.jsonl"), "w") as f:
        for d in removed:
            f.write(json.dumps({"id": ids[d]}) + "\n")
    with open(os.path.join(a.output, "skipped.jsonl"), "w") as f:
        for s in totals["skipped"]:
            f.write(json.dumps(s) + "\n")
    # The cleaned corpus: every input record but the removed documents, in input order; JSONL
    # lines byte for byte (skipped and blank lines included: a cleanup loses nothing it did not
    # judge).
    removed_df = spark.createDataFrame([(d,) for d in removed], "doc long")
    if a.format == "jsonl":
        source.join(removed_df, "doc", "left_anti").orderBy("doc") \
            .select(F.col("line").cast("string").alias("value")) \
            .write.mode("overwrite").text(os.path.join(a.output, "clean"))
    else:
        # Every column of the input, in its order (the worker only saw the text and id).
        table.join(removed_df, "doc", "left_anti").orderBy("doc").select(*columns) \
            .write.mode("overwrite").parquet(os.path.join(a.output, "clean"))
    # The summary of the report (scan's names and meanings), and what a cleanup removes.
    if report is not None:
        summary = dict(report["summary"])
    else:
        summary = {k: v for k, v in totals.items() if k != "skipped"}
        summary.update(skipped=len(totals["skipped"]), clusters=len(clusters),
                       duplicate_documents=len(removed),
                       exact_duplicate_documents=exact_count)
    summary["removed"] = len(removed)
    with open(os.path.join(a.output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))
    spark.stop()


def write_report(a, flags, totals, info, clusters, path):
    """report.json by `dupsift worker report` (on the driver): scan's JSON report, from the
    clusters found here ([(kept, [(doc, similarity, exact)], component)], in the report's order)
    and their documents' ids, sizes and heads in `info`."""
    import pyarrow as pa

    cols = {"cluster": [], "component": [], "doc": [], "id": [], "bytes": [], "head": [],
            "kept": [], "exact": [], "similarity": []}

    def row(position, component, d, kept, exact, similarity):
        r = info[d]
        cols["cluster"].append(position)
        cols["component"].append(component)
        cols["doc"].append(d)
        cols["id"].append(r["id"])
        cols["bytes"].append(r["bytes"])
        head = r["head"]
        cols["head"].append(head.encode("utf-8") if isinstance(head, str) else bytes(head or b""))
        cols["kept"].append(kept)
        cols["exact"].append(exact)
        cols["similarity"].append(similarity)

    # A cluster's number is its position in the report.
    for position, (k, members, c) in enumerate(clusters):
        row(position, c, k, True, False, None)
        for d, s, e in members:
            row(position, c, d, False, e, None if e else s)
    table = pa.table({
        "cluster": pa.array(cols["cluster"], pa.int64()),
        "component": pa.array(cols["component"], pa.int64()),
        "doc": pa.array(cols["doc"], pa.int64()),
        "id": pa.array(cols["id"], pa.string()), "bytes": pa.array(cols["bytes"], pa.int64()),
        "head": pa.array(cols["head"], pa.binary()), "kept": pa.array(cols["kept"], pa.bool_()),
        "exact": pa.array(cols["exact"], pa.bool_()),
        "similarity": pa.array(cols["similarity"], pa.float64())})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    with tempfile.TemporaryDirectory() as tmp:
        totals_path = os.path.join(tmp, "totals.json")
        with open(totals_path, "w") as f:
            json.dump(totals, f)
        done = subprocess.run([binary_path(a.binary), "worker", "report", *flags,
                               "--keep", a.keep, "--totals", totals_path],
                              input=sink.getvalue().to_pybytes(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError("dupsift worker report failed: "
                           + done.stderr.decode("utf-8", "replace").strip())
    # Written whole, then renamed: a reader never sees half a report.
    with open(path + ".tmp", "wb") as f:
        f.write(done.stdout)
    os.replace(path + ".tmp", path)
    return json.loads(done.stdout)


if __name__ == "__main__":
    main()
