#!/usr/bin/env python3
"""dupsift on Apache Spark: near-duplicate clusters of a corpus that outgrows one machine.

Spark reads the corpus, partitions it and shuffles; the per-document work runs in the dupsift
binary itself (`dupsift worker`, built with `cargo build --release --features spark`), called
per partition through DataFrame.mapInArrow, so that this job and `dupsift scan` share one
implementation. Steps (docs/spark.md): number the documents in input order, sign them, group
exact duplicates by content hash, group originals by band key into candidate pairs, verify the
candidates in the worker, and join the kept pairs and exact-duplicate links into clusters with
dupsift's union-find on the driver (`dupsift worker components`).

    spark-submit --files target/release/dupsift spark/dupsift_spark.py \\
        --input data/*.jsonl --output out/ [--threshold 0.8 --ngram 5 ...]

Writes OUT/clusters.jsonl (one cluster per line: kept document and members, in input order),
OUT/removed.jsonl (the ids a cleanup removes), OUT/clean/ (every input record but the removed
ones, written by Spark: JSONL lines byte for byte, or Parquet rows), OUT/skipped.jsonl (records
without usable text, with the reason a scan gives) and OUT/summary.json.
"""
import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading

from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Buckets larger than this are linked as a star plus a chain, as `dupsift scan` does (lsh.rs).
MAX_FULL_BUCKET = 64

DETECTION_FLAGS = ("threshold", "ngram", "unit", "num_perm", "bands", "rows", "seed", "scheme")


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
    return p.parse_args(argv)


def worker_flags(a):
    flags = ["--max-doc-bytes", str(a.max_doc_bytes), "-j", "1", "--quiet"]
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
    return [sorted(g) for g in groups.values()]


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName("dupsift").getOrCreate()
    flags = worker_flags(a)

    common = [T.StructField("bytes", T.LongType()), T.StructField("words", T.LongType()),
              T.StructField("shingles", T.LongType()), T.StructField("content_hi", T.LongType()),
              T.StructField("content_lo", T.LongType()),
              T.StructField("keys", T.ArrayType(T.LongType())),
              T.StructField("lossy", T.BooleanType()), T.StructField("error", T.StringType())]
    if a.format == "jsonl":
        # Raw lines, decoded by the worker as `scan` decodes a JSONL file (Spark's own JSON
        # reader would reject a line with invalid UTF-8 that `scan` reads, and name fields
        # differently). The text source keeps a line's bytes; the cast hands them over as is.
        lines = spark.read.text(a.input).select(F.col("value").cast("binary").alias("line"))
        numbered = lines.rdd.zipWithIndex().map(lambda r: (r[1], r[0]["line"]))
        source = spark.createDataFrame(numbered, T.StructType([
            T.StructField("doc", T.LongType(), False), T.StructField("line", T.BinaryType())]))
        sign_flags = flags + ["--jsonl-lines", "--text-field", a.text_field,
                              "--id-field", a.id_field]
        sign_schema = T.StructType([T.StructField("doc", T.LongType()),
                                    T.StructField("id", T.StringType()),
                                    T.StructField("text", T.BinaryType()),
                                    T.StructField("blank", T.BooleanType())] + common)
    else:
        raw = spark.read.parquet(*a.input)
        cols = raw.columns
        text = F.col(a.text_field) if a.text_field in cols else F.lit(None).cast("string")
        ident = F.col(a.id_field).cast("string") if a.id_field in cols else \
            F.lit(None).cast("string")
        numbered = raw.select(ident.alias("id"), text.alias("text"), text.alias("body")) \
            .rdd.zipWithIndex().map(lambda r: (r[1], r[0]["id"], r[0]["text"], r[0]["body"]))
        source = spark.createDataFrame(numbered, T.StructType([
            T.StructField("doc", T.LongType(), False), T.StructField("id", T.StringType()),
            T.StructField("text", raw.schema[a.text_field].dataType if a.text_field in cols
                          else T.StringType()),
            T.StructField("body", raw.schema[a.text_field].dataType if a.text_field in cols
                          else T.StringType())]))
        sign_flags = flags + ["--text-field", "text"]
        # The worker consumes `text`; `body` comes back for verification.
        sign_schema = T.StructType([T.StructField("doc", T.LongType()),
                                    T.StructField("id", T.StringType()),
                                    T.StructField("body", source.schema["body"].dataType),
                                    T.StructField("blank", T.BooleanType())] + common)
        source = source.withColumn("blank", F.lit(False))
    source = source.cache()
    signed = source.mapInArrow(run_worker(a.binary, "sign", sign_flags), sign_schema) \
        .where(~F.col("blank")) \
        .withColumn("id", F.coalesce(F.col("id"),
                                     F.concat(F.lit("(record "), F.col("doc") + 1, F.lit(")")))) \
        .cache()
    if "body" in signed.columns:
        signed = signed.withColumnRenamed("body", "text")
    n = signed.count()
    docs = signed.select("doc", "id", F.col("text").cast("binary").alias("text"))

    skipped = signed.where(F.col("error").isNotNull()).select("doc", "id", "error")
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
    with_texts = pair_df \
        .join(texts.withColumnRenamed("doc", "a").withColumnRenamed("text", "a_text"), "a") \
        .join(texts.withColumnRenamed("doc", "b").withColumnRenamed("text", "b_text"), "b") \
        .select("a", "b", "a_text", "b_text")
    verify_schema = T.StructType([
        T.StructField("a", T.LongType()), T.StructField("b", T.LongType()),
        T.StructField("similarity", T.DoubleType()), T.StructField("error", T.StringType()),
    ])
    verified = with_texts.mapInArrow(run_worker(a.binary, "verify", flags), verify_schema)
    near = verified.where(F.col("similarity") >= a.threshold).select("a", "b")

    # Connected components on the driver: the edge list is small next to the corpus.
    edges = [(r["a"], r["b"]) for r in exact_links.union(near).collect()]
    clusters = components(a.binary, edges)
    clusters.sort(key=lambda g: (-len(g), g[0]))
    in_clusters = spark.createDataFrame([(d,) for g in clusters for d in g], "doc long")
    ids = dict(docs.join(in_clusters, "doc").select("doc", "id").rdd
               .map(lambda r: (r["doc"], r["id"])).collect())
    removed = [d for g in clusters for d in g[1:]]

    os.makedirs(a.output, exist_ok=True)
    with open(os.path.join(a.output, "clusters.jsonl"), "w") as f:
        for k, g in enumerate(clusters):
            f.write(json.dumps({"cluster": k, "kept": ids[g[0]],
                                "members": [ids[d] for d in g[1:]]}) + "\n")
    with open(os.path.join(a.output, "removed.jsonl"), "w") as f:
        for d in sorted(removed):
            f.write(json.dumps({"id": ids[d]}) + "\n")
    skipped_rows = skipped.orderBy("doc").collect()
    with open(os.path.join(a.output, "skipped.jsonl"), "w") as f:
        for r in skipped_rows:
            f.write(json.dumps({"id": r["id"], "reason": r["error"]}) + "\n")
    # The cleaned corpus: every input record but the removed documents, in input order; JSONL
    # lines byte for byte (skipped and blank lines included: a cleanup loses nothing it did not
    # judge).
    removed_df = spark.createDataFrame([(d,) for d in removed], "doc long")
    kept = source.join(removed_df, "doc", "left_anti").orderBy("doc")
    if a.format == "jsonl":
        kept.select(F.col("line").cast("string").alias("value")) \
            .write.mode("overwrite").text(os.path.join(a.output, "clean"))
    else:
        kept.drop("doc", "body", "blank").write.mode("overwrite") \
            .parquet(os.path.join(a.output, "clean"))
    # The names and meanings of `dupsift scan`'s summary: documents are the usable records.
    summary = {
        "documents": n - len(skipped_rows),
        "skipped": len(skipped_rows),
        "invalid_utf8_documents": good.where(F.col("lossy")).count(),
        "empty_documents": good.where(F.col("words") == 0).count(),
        "clusters": len(clusters),
        "duplicate_documents": sum(len(g) - 1 for g in clusters),
        "candidate_pairs": pair_df.count(),
        "verified_pairs": near.count(),
        "exact_duplicate_documents": exact_links.count(),
        "removed": len(removed),
    }
    with open(os.path.join(a.output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))
    spark.stop()


if __name__ == "__main__":
    main()
