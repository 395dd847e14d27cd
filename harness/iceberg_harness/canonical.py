"""Canonical rendering of query results, so that reads can be compared across copies and engines.

Every engine's result is turned into a pyarrow Table first (Spark's DataFrame.toArrow, PyIceberg's
to_arrow, DuckDB's arrow export) and rendered by the same code:

- a row is a JSON array of its values in column order;
- null -> null; bool -> true/false; integers -> numbers (strings beyond +-2^53, so JavaScript keeps them);
- float/double -> a number via repr (NaN/Infinity/-Infinity as strings);
- decimal -> string with its scale ("12.30"); date -> "YYYY-MM-DD";
- timestamp with zone -> ISO in UTC with "+00:00"; timestamp without zone -> ISO without offset;
  time -> ISO; binary/fixed -> lowercase hex; uuid -> canonical string;
- struct -> JSON object (keys sorted); list -> array; map -> array of [key, value] pairs sorted by key.

The rows are sorted by their rendered text (JSON, sorted keys, no spaces) and the digest is the sha256 of
those lines joined with "\\n". Columns are reported beside the digest, not inside it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from typing import Any

_SAFE = 2**53 - 1


def canon_value(v: Any) -> Any:
    if v is None or isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if -_SAFE <= v <= _SAFE else str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            return v.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
        return v.isoformat(timespec="microseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat(timespec="microseconds")
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {str(k): canon_value(x) for k, x in v.items()}
    if isinstance(v, list) and v and all(isinstance(e, tuple) and len(e) == 2 for e in v):
        # pyarrow renders a map as a list of (key, value) tuples
        pairs = [[canon_value(k), canon_value(x)] for k, x in v]
        return sorted(pairs, key=lambda p: _dumps(p[0]))
    if isinstance(v, (list, tuple)):
        return [canon_value(e) for e in v]
    return str(v)


def _dumps(x: Any) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_result(table, max_rows: int = 50) -> dict[str, Any]:
    """Render a pyarrow Table: {rowCount, digest, columns, rows?} (rows only when rowCount < max_rows)."""
    columns = [f.name for f in table.schema]
    data = table.to_pylist()
    lines = sorted(_dumps([canon_value(row[c]) for c in columns]) for row in data)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    out: dict[str, Any] = {"rowCount": len(lines), "digest": digest, "columns": columns}
    if len(lines) < max_rows:
        out["rows"] = [json.loads(line) for line in lines]
    return out


def _arrow_dupe_safe(table):
    """to_pylist() keys rows by column name: rename duplicate names so no value is lost."""
    names = [f.name for f in table.schema]
    if len(set(names)) == len(names):
        return table
    seen: dict[str, int] = {}
    fixed = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        fixed.append(n if k == 0 else f"{n}#{k}")
    return table.rename_columns(fixed)


def render(table, max_rows: int = 50) -> dict[str, Any]:
    return canonical_result(_arrow_dupe_safe(table), max_rows)
