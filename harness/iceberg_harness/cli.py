"""Command line: generate | read | rewrite-table-path | sample | addfiles-* | dump-entries | check | versions. JSON goes to stdout, everything else to stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="harness/run.py", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write the fixture tables into <out-dir> (+ manifest.json)")
    g.add_argument("out_dir")
    r = sub.add_parser("read", help="read tables per <spec.json> ('-' = stdin); print one JSON document")
    r.add_argument("spec")
    r.add_argument("--engines", help="comma-separated override of the spec's engines")
    r.add_argument("--pretty", action="store_true", help="indent the JSON")
    sub.add_parser("check", help="verify the installation without starting a JVM")
    sub.add_parser("versions", help="print the engines' versions as JSON")
    rtp = sub.add_parser(
        "rewrite-table-path",
        help="run Iceberg's rewrite_table_path procedure per <spec.json> ('-' = stdin) and copy its file list",
    )
    rtp.add_argument("spec")
    smp = sub.add_parser("sample", help="write the sample replicated table sales.orders into <out-dir>/warehouse")
    smp.add_argument("out_dir")
    af = sub.add_parser("addfiles-fixtures", help="write Parquet file sets for add-files into <out-dir> (+ manifest.json)")
    af.add_argument("out_dir")
    ap_py = sub.add_parser("addfiles-pyiceberg", help="PyIceberg create_table + Table.add_files per <spec.json> ('-' = stdin)")
    ap_py.add_argument("spec")
    ap_sp = sub.add_parser("addfiles-spark", help="Spark create table + Iceberg's add_files procedure per <spec.json> ('-' = stdin)")
    ap_sp.add_argument("spec")
    de = sub.add_parser("dump-entries", help="the current snapshot's manifests and entries of <metadata.json>, via PyIceberg")
    de.add_argument("metadata")
    args = ap.parse_args(argv)

    # Anything a library or the JVM (a child process inheriting fd 1) prints to stdout must not corrupt
    # the JSON: point fd 1 at stderr until the end and write the document to the saved descriptor.
    sys.stdout.flush()
    saved_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = os.fdopen(saved_fd, "w", encoding="utf-8")
    sys.stdout = sys.stderr
    try:
        if args.cmd == "generate":
            from .generate import run_generate

            doc = run_generate(args.out_dir)
            pretty = False
        elif args.cmd == "read":
            from .read import run_read

            text = sys.stdin.read() if args.spec == "-" else open(args.spec).read()
            spec = json.loads(text)
            if args.engines:
                spec["engines"] = [e.strip() for e in args.engines.split(",") if e.strip()]
            doc = run_read(spec)
            pretty = args.pretty
        elif args.cmd == "rewrite-table-path":
            from .rewrite_path import run_rewrite_table_path

            text = sys.stdin.read() if args.spec == "-" else open(args.spec).read()
            doc = run_rewrite_table_path(json.loads(text))
            pretty = False
        elif args.cmd == "addfiles-fixtures":
            from .addfiles import run_addfiles_fixtures

            doc = run_addfiles_fixtures(args.out_dir)
            pretty = False
        elif args.cmd in ("addfiles-pyiceberg", "addfiles-spark"):
            from .addfiles import run_addfiles_pyiceberg, run_addfiles_spark

            text = sys.stdin.read() if args.spec == "-" else open(args.spec).read()
            fn = run_addfiles_pyiceberg if args.cmd == "addfiles-pyiceberg" else run_addfiles_spark
            doc = fn(json.loads(text))
            pretty = False
        elif args.cmd == "dump-entries":
            from .addfiles import run_dump_entries

            doc = run_dump_entries(args.metadata)
            pretty = False
        elif args.cmd == "sample":
            from .sample import run_sample

            doc = run_sample(args.out_dir)
            pretty = True
        elif args.cmd == "check":
            from . import env

            env.jar_paths()
            import pyiceberg  # noqa: F401
            import pyspark  # noqa: F401

            con = env.duckdb_connect()
            con.execute("SELECT 1").fetchall()
            doc = {"ok": True, "versions": env.versions()}
            pretty = False
        else:
            from . import env

            doc = env.versions()
            pretty = False
    finally:
        sys.stdout = real_stdout
    if pretty:
        real_stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    else:
        real_stdout.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n")
    real_stdout.flush()
    return 0
