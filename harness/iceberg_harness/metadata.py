"""Reading table metadata files and resolving a table request to its current metadata file."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
from typing import Any
from urllib.parse import unquote, urlparse


def local_path(location: str) -> str:
    """`file:/x`, `file:///x` or `/x` -> `/x` (other schemes are returned unchanged)."""
    if location.startswith("file:"):
        p = urlparse(location)
        return unquote(p.path)
    return location


def is_gzip_metadata(path: str) -> bool:
    return path.endswith(".gz.metadata.json") or path.endswith(".metadata.json.gz")


def read_metadata(path: str) -> dict[str, Any]:
    p = local_path(path)
    with open(p, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def hadoop_current_metadata(table_dir: str) -> str:
    """The current metadata file of a Hadoop-catalog table (version-hint.text, else the highest vN)."""
    meta = os.path.join(local_path(table_dir), "metadata")
    version = None
    hint = os.path.join(meta, "version-hint.text")
    if os.path.isfile(hint):
        with open(hint) as f:
            text = f.read().strip()
        if text.isdigit():
            version = int(text)
    names = os.listdir(meta)
    if version is None:
        nums = []
        for n in names:
            if n.startswith("v") and n.endswith(".metadata.json"):
                head = n[1:].split(".", 1)[0]
                if head.isdigit():
                    nums.append(int(head))
        if not nums:
            raise FileNotFoundError(f"no vN.metadata.json in {meta}")
        version = max(nums)
    for cand in (f"v{version}.metadata.json", f"v{version}.gz.metadata.json", f"v{version}.metadata.json.gz"):
        if cand in names:
            return os.path.join(meta, cand)
    raise FileNotFoundError(f"version {version} named by {hint} has no metadata file in {meta}")


def sqlite_file(uri: str) -> str:
    """`jdbc:sqlite:/x.db`, `jdbc:sqlite:file:/x.db`, `sqlite:////x.db` or a plain path -> `/x.db`."""
    u = uri
    if u.startswith("jdbc:"):
        u = u[len("jdbc:") :]
    if u.startswith("sqlite:///"):
        u = u[len("sqlite:///") :]
        # sqlite:////abs -> /abs ; sqlite:///rel -> rel
        return u if u.startswith("/") else u
    if u.startswith("sqlite:"):
        u = u[len("sqlite:") :]
    if u.startswith("file:"):
        u = local_path(u.split("?", 1)[0])
    return u.split("?", 1)[0]


def sql_catalog_metadata(uri: str, catalog_name: str, identifier: str) -> str:
    """metadata_location of a table in an Iceberg JDBC/SQL catalog kept in sqlite (Java or PyIceberg schema)."""
    ns, _, name = identifier.rpartition(".")
    path = sqlite_file(uri)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"sqlite catalog {path} does not exist")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? "
            "AND table_name = ?",
            (catalog_name, ns, name),
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise LookupError(f"table {identifier} not found in catalog '{catalog_name}' of {path}")
    return rows[0][0]


def resolve_metadata_location(req: dict[str, Any]) -> str:
    """The current metadata file for a table request (see read.py for the request's shape)."""
    if req.get("metadata"):
        return req["metadata"]
    cat = req.get("catalog") or {}
    ident = req.get("identifier")
    if not ident:
        raise ValueError("a table request needs 'metadata' or 'catalog' + 'identifier'")
    kind = cat.get("type")
    if kind == "hadoop":
        wh = local_path(cat["warehouse"])
        return hadoop_current_metadata(os.path.join(wh, *ident.split(".")))
    if kind in ("jdbc", "sql"):
        return sql_catalog_metadata(cat["uri"], cat.get("name", "default"), ident)
    if kind == "rest":
        return rest_catalog_metadata(cat["uri"], ident)
    raise ValueError(f"unknown catalog type {kind!r} (hadoop, jdbc, sql or rest)")


def rest_catalog_metadata(uri: str, identifier: str) -> str:
    """The metadata location an Iceberg REST catalog holds for `ns.table` (plain GET, no prefix, no auth)."""
    import json as _json
    import urllib.parse
    import urllib.request

    *ns, name = identifier.split(".")
    url = (
        uri.rstrip("/")
        + "/v1/namespaces/"
        + urllib.parse.quote("\x1f".join(ns), safe="")
        + "/tables/"
        + urllib.parse.quote(name, safe="")
    )
    with urllib.request.urlopen(url, timeout=60) as r:
        return _json.loads(r.read())["metadata-location"]


def summarize(meta: dict[str, Any]) -> dict[str, Any]:
    """Snapshots (ids as strings: they exceed JavaScript's safe integers) and refs of a metadata document."""
    cur = meta.get("current-snapshot-id")
    if cur is not None and cur < 0:
        cur = None
    snaps = []
    for s in meta.get("snapshots") or []:
        snaps.append(
            {
                "snapshotId": str(s["snapshot-id"]),
                "parentId": str(s["parent-snapshot-id"]) if s.get("parent-snapshot-id") is not None else None,
                "sequenceNumber": s.get("sequence-number", 0),
                "timestampMs": s.get("timestamp-ms"),
                "operation": (s.get("summary") or {}).get("operation"),
                "schemaId": s.get("schema-id"),
            }
        )
    refs = {}
    for name, r in (meta.get("refs") or {}).items():
        refs[name] = {"type": r.get("type"), "snapshotId": str(r["snapshot-id"])}
    if not refs and cur is not None:  # v1 tables written before refs existed
        refs["main"] = {"type": "branch", "snapshotId": str(cur)}
    return {
        "formatVersion": meta.get("format-version"),
        "location": meta.get("location"),
        "currentSnapshotId": str(cur) if cur is not None else None,
        "snapshots": snaps,
        "refs": refs,
    }
