"""Apache Iceberg's `rewrite_table_path` on one table, timed as a whole process by bench/scale.bench.ts.

    python bench/rewrite-table-path.py <metadata.json> <source-prefix> <target-prefix> <staging-dir>

Starts Spark (local[2]) through the interop harness, registers the table in a throwaway JDBC
catalog on SQLite under its metadata file, and calls the procedure, which rewrites every metadata
version into the staging directory. Its file list is not carried out (ours copies no data either).
The JVM is stopped and waited for before the process ends, so that its CPU time and memory count
as the process's own. Prints one line: the procedure's latest version and the seconds it took.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))

from iceberg_harness import env  # noqa: E402


def main() -> None:
    metadata, source_prefix, target_prefix, staging = sys.argv[1:5]
    scratch = tempfile.mkdtemp(prefix="rtp-bench-")
    spark = env.spark_session()
    cat = "bench"
    for k, v in {
        "": "org.apache.iceberg.spark.SparkCatalog",
        ".type": "jdbc",
        ".uri": "jdbc:sqlite:" + os.path.join(scratch, "catalog.db"),
        ".warehouse": "file://" + os.path.join(scratch, "warehouse"),
        ".jdbc.schema-version": "V1",
        ".cache-enabled": "false",
    }.items():
        spark.conf.set(f"spark.sql.catalog.{cat}" + k, v)
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {cat}.db")
    spark.sql(f"CALL {cat}.system.register_table(table => 'db.events', metadata_file => '{metadata}')").collect()
    t0 = time.time()
    row = spark.sql(
        f"CALL {cat}.system.rewrite_table_path(table => 'db.events', source_prefix => '{source_prefix}', "
        f"target_prefix => '{target_prefix}', staging_location => '{staging}')"
    ).collect()[0]
    took = time.time() - t0
    gateway = spark.sparkContext._gateway
    spark.stop()
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    if proc is not None:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=120)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"latest {row['latest_version']}, procedure {took:.1f} s")


if __name__ == "__main__":
    main()
