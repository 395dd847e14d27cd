"""Command line: generate | read | sample | check | versions. JSON goes to stdout, everything else to stderr."""

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
