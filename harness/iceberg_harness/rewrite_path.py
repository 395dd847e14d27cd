"""`rewrite-table-path <spec.json>`: Apache Iceberg's own `rewrite_table_path` Spark procedure, then its copy plan.

Spec (JSON): a list of tables (or `{"tables": [...]}`):
    [
      {"name": "t1",                                          # optional label, echoed
       "metadata": "/abs/.../v3.metadata.json",               # the source table's metadata file
       "sourcePrefix": "file:/abs/warehouse/db/t1",            # literal prefix of the paths in the metadata
       "targetPrefix": "file:/abs/out/A/t1",                  # where the copy lives (local file: URI or path)
       "staging": "/abs/out/staging/t1"},                     # where the procedure writes its rewritten files
      ...
    ]

Each table is registered (never modified) in a throwaway JDBC catalog on sqlite, under the metadata
location spelled like `sourcePrefix` (`file:/x`, `file:///x` or `/x`), because the procedure replaces
prefixes literally. Then `CALL cat.system.rewrite_table_path(table, source_prefix, target_prefix,
staging_location)` runs, and the file list it returns (one `source,target` line per file) is carried
out: every `source` is copied to the local path its `target` names. Targets must lie under the
local path of `targetPrefix`.

Result (one JSON document on stdout):
    {"harness": {"versions", "seconds"},
     "tables": [{"name", "latestVersion", "fileList", "copied", "metadataLocation", "output", "seconds"}
                | {"name", "error"}]}
`metadataLocation` is the local path of the copied `latestVersion`; `output` holds every column of
the procedure's result row. A table the procedure refuses gets `error` (the run goes on).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

from . import env
from .metadata import local_path
from .read import _err

CATALOG = "rtp_scratch"
NAMESPACE = "rtp"


def _spell_like(prefix: str, path: str) -> str:
    """An absolute local path spelled with the scheme form `prefix` uses."""
    p = os.path.abspath(local_path(path))
    if prefix.startswith("file:///"):
        return "file://" + p
    if prefix.startswith("file:/"):
        return "file:" + p
    return p


def _sql_literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _is_under(path: str, root: str) -> bool:
    path, root = os.path.normpath(path), os.path.normpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_file_list(location: str) -> list[tuple[str, str]]:
    rows = []
    with open(local_path(location), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != 2:
                raise ValueError(f"{location}: cannot split file-list line into source,target: {line!r}")
            rows.append((parts[0], parts[1]))
    return rows


def _copy_plan(rows: list[tuple[str, str]], target_root: str) -> int:
    copied = 0
    for src, dst in rows:
        for p in (src, dst):
            if "://" in p and not p.startswith("file:"):
                raise ValueError(f"file-list entry {p!r} is not a local path")
        dst_path = local_path(dst)
        if not _is_under(dst_path, target_root):
            raise ValueError(f"file-list target {dst!r} is outside the target prefix {target_root}")
        os.makedirs(os.path.dirname(dst_path), exist_ok=True)
        shutil.copyfile(local_path(src), dst_path)
        copied += 1
    return copied


def run_rewrite_table_path(spec: Any) -> dict[str, Any]:
    env.pin_utc()
    t_all = time.time()
    tables = spec.get("tables") if isinstance(spec, dict) else spec
    if not isinstance(tables, list):
        raise ValueError("spec must be a list of {metadata, sourcePrefix, targetPrefix, staging}")
    scratch = tempfile.mkdtemp(prefix="iceberg-harness-rtp-")
    out: list[dict[str, Any]] = []
    try:
        spark = env.spark_session().newSession()
        prefix = f"spark.sql.catalog.{CATALOG}"
        for k, v in {
            "": "org.apache.iceberg.spark.SparkCatalog",
            ".type": "jdbc",
            ".uri": "jdbc:sqlite:" + os.path.join(scratch, "catalog.db"),
            ".warehouse": "file://" + os.path.join(scratch, "warehouse"),
            ".jdbc.schema-version": "V1",
            ".cache-enabled": "false",
        }.items():
            spark.conf.set(prefix + k, v)
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {CATALOG}.{NAMESPACE}")
        for i, req in enumerate(tables):
            name = req.get("name") or req["metadata"]
            entry: dict[str, Any] = {"name": name}
            t0 = time.time()
            try:
                source_prefix, target_prefix = req["sourcePrefix"], req["targetPrefix"]
                ident = f"{NAMESPACE}.t{i}"
                metadata = _spell_like(source_prefix, req["metadata"])
                spark.sql(
                    f"CALL {CATALOG}.system.register_table(table => {_sql_literal(ident)}, "
                    f"metadata_file => {_sql_literal(metadata)})"
                ).collect()
                row = spark.sql(
                    f"CALL {CATALOG}.system.rewrite_table_path(table => {_sql_literal(ident)}, "
                    f"source_prefix => {_sql_literal(source_prefix)}, "
                    f"target_prefix => {_sql_literal(target_prefix)}, "
                    f"staging_location => {_sql_literal(req['staging'])})"
                ).collect()[0]
                output = row.asDict()
                latest, file_list = output["latest_version"], output["file_list_location"]
                rows = _read_file_list(file_list)
                entry["copied"] = _copy_plan(rows, local_path(target_prefix))
                entry["latestVersion"] = latest
                entry["fileList"] = local_path(file_list)
                targets = [local_path(d) for _, d in rows if d.endswith("/" + latest)]
                if len(targets) != 1:
                    raise ValueError(f"the file list names {len(targets)} targets for {latest}")
                entry["metadataLocation"] = targets[0]
                entry["output"] = {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v))
                                   for k, v in output.items()}
                env.log(f"{name}: rewrite_table_path -> {latest}, {entry['copied']} files copied "
                        f"in {time.time() - t0:.1f}s")
            except Exception as e:  # noqa: BLE001
                entry.update(_err(e))
                env.log(f"{name}: rewrite_table_path failed: {entry['error']}")
            entry["seconds"] = round(time.time() - t0, 3)
            out.append(entry)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"harness": {"versions": env.versions(), "seconds": round(time.time() - t_all, 3)}, "tables": out}
