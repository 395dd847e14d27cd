"""`read <spec.json>`: read tables with Spark, PyIceberg and DuckDB, every snapshot and ref, canonically.

Spec (JSON):
    {
      "engines": ["spark", "pyiceberg", "duckdb"],   # optional, default all three
      "maxRows": 50,                                  # optional: rows are listed when rowCount < maxRows
      "snapshots": "all",                             # optional: "all" (default) or "current"
      "tables": [
        {"name": "a", "metadata": "/abs/path/v3.metadata.json"},
        {"name": "b", "catalog": {"type": "hadoop", "warehouse": "/abs/warehouse"}, "identifier": "db.t"},
        {"name": "c", "catalog": {"type": "jdbc", "uri": "jdbc:sqlite:/abs/catalog.db", "name": "cat",
                                   "warehouse": "file:///abs/warehouse", "properties": {}},
         "identifier": "ns.t"},
        ... each entry may also carry its own "engines" and "snapshots"
      ]
    }

Result (one JSON document on stdout): see README.md / test/interop/harness.ts (ReadResult).
An engine's failure is recorded as {"error": "..."} for that entry; it never aborts the run.
"""

from __future__ import annotations

import json
import time
import traceback
from typing import Any, Callable

from . import env
from .canonical import render
from .metadata import is_gzip_metadata, local_path, read_metadata, resolve_metadata_location, summarize

ENGINES = ("spark", "pyiceberg", "duckdb")


def _err(e: BaseException) -> dict[str, str]:
    """A short, single-paragraph error (Java stack traces cut off)."""
    java = getattr(e, "java_exception", None)
    msg = None
    if java is not None:
        try:  # the Java exception and its causes: the root cause is usually the informative one
            parts, cur = [], java
            while cur is not None and len(parts) < 6:
                parts.append(str(cur.toString()).splitlines()[0])
                nxt = cur.getCause()
                cur = None if nxt is None or nxt.equals(cur) else nxt
            msg = " <- caused by: ".join(parts)
        except Exception:  # noqa: BLE001
            msg = None
    if msg is None:
        msg = f"{type(e).__name__}: {e}"
    lines = [ln for ln in str(msg).splitlines() if ln.strip()]
    kept = []
    for ln in lines:
        if ln.lstrip().startswith(("at ", "JVM stacktrace", "...")):
            break
        kept.append(ln.strip())
        if len(kept) >= 6:
            break
    text = " | ".join(kept) or type(e).__name__
    return {"error": text[:2000]}


class Selection:
    """What to read: None = current state; ("snapshot", id) or ("branch"|"tag", name)."""

    def __init__(self, kind: str | None, value: str | None, snapshot_id: str | None):
        self.kind = kind
        self.value = value
        self.snapshot_id = snapshot_id  # resolved id (refs resolve through the metadata)


# --- Spark -----------------------------------------------------------------


class SparkReader:
    name = "spark"

    def __init__(self):
        self.spark = env.spark_session()
        self._catalogs: dict[str, Any] = {}

    def _catalog(self, cat: dict[str, Any]):
        """(session, catalog name) for a catalog request; catalogs are registered once per process.

        A JDBC catalog keeps its Iceberg catalog name in its rows and SparkCatalog uses the Spark catalog's
        name as that name, so the Spark catalog is named like the stored one. Two requests may use the same
        name with different databases (an original and its rewritten copy), so each JDBC catalog gets its
        own SparkSession (spark.newSession(): same JVM and SparkContext, separate catalogs and conf).
        """
        key = json.dumps(cat, sort_keys=True)
        if key in self._catalogs:
            return self._catalogs[key]
        kind = cat.get("type")
        if kind == "hadoop":
            session, name = self.spark, f"harness_hadoop_{len(self._catalogs)}"
            wh = cat["warehouse"]
            props = {"type": "hadoop", "warehouse": wh if "://" in wh or wh.startswith("file:") else "file://" + wh}
        elif kind in ("jdbc", "sql"):
            from .metadata import sqlite_file

            uri = cat["uri"]
            if not uri.startswith("jdbc:"):
                uri = "jdbc:sqlite:" + sqlite_file(uri)
            session, name = self.spark.newSession(), cat.get("name", "default")
            props = {"type": "jdbc", "uri": uri}
            if cat.get("warehouse"):
                props["warehouse"] = cat["warehouse"]
        elif kind == "rest":
            # Iceberg's own RESTCatalog (the client Spark users configure with type=rest).
            session, name = self.spark, f"harness_rest_{len(self._catalogs)}"
            props = {"type": "rest", "uri": cat["uri"]}
        else:
            raise ValueError(f"unknown catalog type {kind!r}")
        props.update({k: str(v) for k, v in (cat.get("properties") or {}).items()})
        prefix = f"spark.sql.catalog.{name}"
        session.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
        for k, v in props.items():
            session.conf.set(f"{prefix}.{k}", v)
        self._catalogs[key] = (session, name)
        return self._catalogs[key]

    def read(self, req: dict[str, Any], metadata_location: str, sel: Selection, max_rows: int):
        session, target = self.spark, metadata_location
        if req.get("catalog"):
            session, cat = self._catalog(req["catalog"])
            target = f"`{cat}`.{req['identifier']}"
        reader = session.read.format("iceberg")
        if sel.kind == "snapshot":
            reader = reader.option("snapshot-id", sel.value)
        elif sel.kind == "branch":
            reader = reader.option("branch", sel.value)
        elif sel.kind == "tag":
            reader = reader.option("tag", sel.value)
        df = reader.load(target)
        from pyspark.sql import functions as F
        from pyspark.sql.types import VariantType

        cols = []
        for f in df.schema.fields:
            if isinstance(f.dataType, VariantType):
                cols.append(F.to_json(F.col(f"`{f.name}`")).alias(f.name))
            else:
                cols.append(F.col(f"`{f.name}`"))
        return render(df.select(*cols).toArrow(), max_rows)


# --- PyIceberg ---------------------------------------------------------------


class PyIcebergReader:
    name = "pyiceberg"

    def __init__(self):
        self._catalogs: dict[str, Any] = {}

    def _table(self, req: dict[str, Any], metadata_location: str):
        cat = req.get("catalog") or {}
        if cat.get("type") in ("jdbc", "sql"):
            key = json.dumps(cat, sort_keys=True)
            if key not in self._catalogs:
                from pyiceberg.catalog.sql import SqlCatalog

                from .metadata import sqlite_file

                props = {"uri": "sqlite:///" + sqlite_file(cat["uri"])}
                if cat.get("warehouse"):
                    props["warehouse"] = cat["warehouse"]
                props.update({k: str(v) for k, v in (cat.get("pyicebergProperties") or {}).items()})
                self._catalogs[key] = SqlCatalog(cat.get("name", "default"), **props)
            return self._catalogs[key].load_table(req["identifier"])
        if cat.get("type") == "rest":
            key = json.dumps(cat, sort_keys=True)
            if key not in self._catalogs:
                from pyiceberg.catalog.rest import RestCatalog

                self._catalogs[key] = RestCatalog("harness_rest", uri=cat["uri"])
            return self._catalogs[key].load_table(req["identifier"])
        from pyiceberg.table import StaticTable

        return StaticTable.from_metadata(metadata_location)

    def read(self, req: dict[str, Any], metadata_location: str, sel: Selection, max_rows: int):
        tbl = self._table(req, metadata_location)
        if sel.kind is None:
            scan = tbl.scan()
        else:
            scan = tbl.scan(snapshot_id=int(sel.snapshot_id))
        return render(scan.to_arrow(), max_rows)


# --- DuckDB ------------------------------------------------------------------


class DuckDBReader:
    name = "duckdb"

    def __init__(self):
        self.con = env.duckdb_connect()

    def read(self, req: dict[str, Any], metadata_location: str, sel: Selection, max_rows: int):
        path = local_path(metadata_location)
        args = ["'" + path.replace("'", "''") + "'"]
        if is_gzip_metadata(path):
            args.append("metadata_compression_codec = 'gzip'")
        if sel.kind is not None:
            args.append(f"snapshot_from_id = {int(sel.snapshot_id)}")
        scan = f"iceberg_scan({', '.join(args)})"
        # Arrow has no VARIANT: render variant columns as JSON text (as Spark's to_json does).
        cols = []
        for row in self.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall():
            q = '"' + row[0].replace('"', '""') + '"'
            cols.append(f"CAST({q} AS JSON)::VARCHAR AS {q}" if row[1] == "VARIANT" else q)
        res = self.con.execute(f"SELECT {', '.join(cols)} FROM {scan}")
        if hasattr(res, "fetch_arrow_table"):
            tbl = res.fetch_arrow_table()
        else:  # pragma: no cover - newer duckdb
            tbl = res.arrow()
            if hasattr(tbl, "read_all"):
                tbl = tbl.read_all()
        return render(tbl, max_rows)


READERS: dict[str, Callable[[], Any]] = {
    "spark": SparkReader,
    "pyiceberg": PyIcebergReader,
    "duckdb": DuckDBReader,
}


def run_read(spec: dict[str, Any]) -> dict[str, Any]:
    env.pin_utc()
    t_all = time.time()
    default_engines = spec.get("engines") or list(ENGINES)
    for req in [spec] + list(spec.get("tables") or []):
        bad = [e for e in (req.get("engines") or []) if e not in READERS]
        if bad:
            raise ValueError(f"unknown engine(s) {bad}; known: {list(READERS)}")
    max_rows = int(spec.get("maxRows", 50))
    readers: dict[str, Any] = {}
    reader_errors: dict[str, dict[str, str]] = {}

    def reader(name: str):
        if name in readers or name in reader_errors:
            return readers.get(name)
        try:
            readers[name] = READERS[name]()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            reader_errors[name] = _err(e)
        return readers.get(name)

    out_tables = []
    for i, req in enumerate(spec.get("tables") or []):
        name = req.get("name") or req.get("identifier") or req.get("metadata") or f"table{i}"
        entry: dict[str, Any] = {"name": name}
        if req.get("identifier"):
            entry["identifier"] = req["identifier"]
        try:
            mloc = resolve_metadata_location(req)
            entry["metadataLocation"] = mloc
            entry.update(summarize(read_metadata(mloc)))
        except Exception as e:  # noqa: BLE001
            entry.update(_err(e))
            entry["reads"] = {}
            out_tables.append(entry)
            env.log(f"{name}: cannot resolve metadata: {entry['error']}")
            continue
        which = req.get("snapshots") or spec.get("snapshots") or "all"
        selections: list[tuple[str, str, Selection]] = [("current", "", Selection(None, None, None))]
        if which == "all":
            for s in entry["snapshots"]:
                sid = s["snapshotId"]
                selections.append(("snapshots", sid, Selection("snapshot", sid, sid)))
            for rname, r in entry["refs"].items():
                selections.append(("refs", rname, Selection(r["type"], rname, r["snapshotId"])))
        reads: dict[str, Any] = {}
        timings: dict[str, float] = {}
        for eng in req.get("engines") or default_engines:
            r = reader(eng)
            t0 = time.time()
            er: dict[str, Any] = {"current": None, "snapshots": {}, "refs": {}}
            for bucket, key, sel in selections:
                if r is None:
                    res = dict(reader_errors[eng])
                else:
                    try:
                        res = r.read(req, mloc, sel, max_rows)
                    except Exception as e:  # noqa: BLE001
                        res = _err(e)
                if bucket == "current":
                    er["current"] = res
                else:
                    er[bucket][key] = res
            reads[eng] = er
            timings[eng] = round(time.time() - t0, 3)
            n_err = sum(
                1
                for b in ("snapshots", "refs")
                for v in er[b].values()
                if "error" in v
            ) + (1 if "error" in er["current"] else 0)
            env.log(f"{name}: {eng} read {len(selections)} selections in {timings[eng]:.1f}s, {n_err} errors")
        entry["reads"] = reads
        entry["readSeconds"] = timings
        out_tables.append(entry)
    return {
        "harness": {"versions": env.versions(), "engines": default_engines, "seconds": round(time.time() - t_all, 3)},
        "tables": out_tables,
    }
