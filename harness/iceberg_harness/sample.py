"""`sample <out-dir>`: the bundled sample replicated table (examples/replica), as a DR site receives it.

1. Spark 4.0 + iceberg-spark-runtime write a small table `sales.orders` (format v2, identity
   partition on `region`) into a scratch Hadoop-catalog warehouse: two appends, a tag, two
   merge-on-read DELETEs (one position-delete file each), an added column, one more append.
2. Apache Iceberg's own `rewrite_table_path` procedure rewrites every metadata version from the scratch
   location to `hdfs://prod-nn:8020/warehouse/sales/orders` (as if the production table lived on HDFS)
   and returns a file list of `source,target` lines; every file of the list is copied to
   `<out-dir>/warehouse/sales/orders/...` (the target prefix stands for that directory), as
   replication (DistCp, SyncIQ) would deliver it. Hadoop's `version-hint.text` is copied too.
3. Sizes are corrected where the procedure left them stale (below), then the result is checked: every
   size recorded in the replica's manifest lists and manifests matches the copied file, the location
   is the HDFS one, and no byte of the scratch location remains in any file.

Iceberg 1.10.1's procedure has three bugs this sample runs into:
- it rewrites only one position-delete file per delete manifest (apache/iceberg#12772, fixed later by
  #15155) and lists the others without writing them. Hence one row per DELETE (one delete file per
  commit); a listed file that was not written stops the run.
- it rewrites position-delete files (the data-file paths inside them change) and manifests, but keeps
  their old sizes: `file_size_in_bytes` in the manifests (apache/iceberg#12554, fixed later by #15470)
  and `manifest_length` in the manifest lists (apache/iceberg#13719).
A replica with wrong sizes is not what a DR site receives from a healthy production table (there the
sizes match what replication copies), and readers that trust the sizes (Trino, Impala, iceberg-rust,
and iceberg-sync's own completeness check, which would call the replica `behind` forever) fail on it.
So step 3 corrects exactly those two fields, manifests first, then manifest lists, by decoding and
re-encoding those Avro files record by record (same schema, header metadata, codec and sync marker;
decoding is checked to re-encode to the original bytes, so nothing else changes). The JSON result
lists every correction under `sizeFixes` (an Iceberg release without the bugs gives an empty list).
Everything else in the sample is Iceberg's own output.

Result (one JSON document on stdout): {icebergRuntime, outDir, tableDir, location, currentMetadata,
currentSnapshotId, snapshots, refs, files, bytes, rewriteTablePath: {latestVersion, filesInList},
sizeFixSummary, sizeFixes: [{file, in, field, recorded, actual, staleInIcebergOutput}], seconds}.
Ids, file names and commit times differ from run to run; the rows are fixed. The scratch table is
written under the system temp directory and removed at the end (IMSYNC_SAMPLE_KEEP_SCRATCH=1 keeps it).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
import zlib
from typing import Any

from . import env
from .metadata import local_path

CATALOG = "sample"
IDENT = "sales.orders"
SOURCE_PREFIX_ROOT = "hdfs://prod-nn:8020/warehouse"
TARGET_PREFIX = f"{SOURCE_PREFIX_ROOT}/sales/orders"  # the production location the replica names


# --- a minimal Avro object-container codec (enough for Iceberg manifests and manifest lists) ---------


class _Reader:
    def __init__(self, data: bytes):
        self.b = data
        self.i = 0

    def read(self, n: int) -> bytes:
        if self.i + n > len(self.b):
            raise ValueError("truncated Avro data")
        out = self.b[self.i : self.i + n]
        self.i += n
        return out

    def long(self) -> int:
        shift = acc = 0
        while True:
            byte = self.read(1)[0]
            acc |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return (acc >> 1) ^ -(acc & 1)


def _zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        if z & ~0x7F:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        else:
            out.append(z)
            return bytes(out)


class _Schema:
    """Named types resolved once; values are plain Python (dict for records, list, dict for maps)."""

    def __init__(self, schema: Any):
        self.named: dict[str, Any] = {}
        self.root = self._register(schema, None)

    def _register(self, s: Any, ns: str | None) -> Any:
        if isinstance(s, str):
            return s
        if isinstance(s, list):
            return [self._register(x, ns) for x in s]
        t = s["type"]
        if t in ("record", "enum", "fixed"):
            name = s["name"]
            ns = s.get("namespace", ns)
            full = name if "." in name or not ns else f"{ns}.{name}"
            self.named[full] = s
            self.named[name] = s
            if t == "record":
                for f in s["fields"]:
                    f["type"] = self._register(f["type"], ns)
        elif t == "array":
            s["items"] = self._register(s["items"], ns)
        elif t == "map":
            s["values"] = self._register(s["values"], ns)
        return s

    def decode(self, s: Any, r: _Reader) -> Any:
        if isinstance(s, list):
            branch = r.long()
            return (branch, self.decode(s[branch], r))
        if isinstance(s, str):
            if s in self.named:
                return self.decode(self.named[s], r)
            if s == "null":
                return None
            if s == "boolean":
                return r.read(1) != b"\x00"
            if s in ("int", "long"):
                return r.long()
            if s == "float":
                return r.read(4)
            if s == "double":
                return r.read(8)
            if s in ("bytes", "string"):
                return r.read(r.long())
            raise ValueError(f"unsupported Avro type {s}")
        t = s["type"]
        if t == "record":
            return {f["name"]: self.decode(f["type"], r) for f in s["fields"]}
        if t == "enum":
            return r.long()
        if t == "fixed":
            return r.read(s["size"])
        if t in ("array", "map"):
            items: list[Any] = []
            while True:
                n = r.long()
                if n == 0:
                    return items if t == "array" else dict(items)
                if n < 0:
                    n = -n
                    r.long()  # block size in bytes
                for _ in range(n):
                    if t == "array":
                        items.append(self.decode(s["items"], r))
                    else:
                        key = r.read(r.long())
                        items.append((key, self.decode(s["values"], r)))
        return self.decode(t, r)  # {"type": "long", "logicalType": ...} and the like

    def encode(self, s: Any, v: Any, out: io.BytesIO) -> None:
        if isinstance(s, list):
            branch, value = v
            out.write(_zigzag(branch))
            self.encode(s[branch], value, out)
            return
        if isinstance(s, str):
            if s in self.named:
                self.encode(self.named[s], v, out)
            elif s == "null":
                pass
            elif s == "boolean":
                out.write(b"\x01" if v else b"\x00")
            elif s in ("int", "long"):
                out.write(_zigzag(v))
            elif s in ("float", "double"):
                out.write(v)
            elif s in ("bytes", "string"):
                out.write(_zigzag(len(v)))
                out.write(v)
            else:
                raise ValueError(f"unsupported Avro type {s}")
            return
        t = s["type"]
        if t == "record":
            for f in s["fields"]:
                self.encode(f["type"], v[f["name"]], out)
        elif t == "enum":
            out.write(_zigzag(v))
        elif t == "fixed":
            out.write(v)
        elif t == "array":
            if v:
                out.write(_zigzag(len(v)))
                for item in v:
                    self.encode(s["items"], item, out)
            out.write(_zigzag(0))
        elif t == "map":
            if v:
                out.write(_zigzag(len(v)))
                for key, item in v.items():
                    out.write(_zigzag(len(key)))
                    out.write(key)
                    self.encode(s["values"], item, out)
            out.write(_zigzag(0))
        else:
            self.encode(t, v, out)


def _avro_read(path: str) -> tuple[bytes, _Schema, str, bytes, list[dict[str, Any]]]:
    """(header bytes, schema, codec, sync marker, records) of an Avro object container file."""
    with open(path, "rb") as f:
        data = f.read()
    r = _Reader(data)
    if r.read(4) != b"Obj\x01":
        raise ValueError(f"{path}: not an Avro object container file")
    meta: dict[bytes, bytes] = {}
    while True:
        n = r.long()
        if n == 0:
            break
        if n < 0:
            n = -n
            r.long()
        for _ in range(n):
            key = r.read(r.long())
            meta[key] = r.read(r.long())
    sync = r.read(16)
    header = data[: r.i]
    schema = _Schema(json.loads(meta[b"avro.schema"]))
    codec = meta.get(b"avro.codec", b"null").decode()
    records: list[dict[str, Any]] = []
    while r.i < len(data):
        count = r.long()
        block = r.read(r.long())
        if codec == "deflate":
            block = zlib.decompress(block, -15)
        elif codec != "null":
            raise ValueError(f"{path}: Avro codec {codec} not supported here")
        if r.read(16) != sync:
            raise ValueError(f"{path}: bad Avro sync marker")
        br = _Reader(block)
        decoded = [schema.decode(schema.root, br) for _ in range(count)]
        if br.i != len(block):
            raise ValueError(f"{path}: trailing bytes in an Avro block")
        # Re-encoding must give the same bytes: then a rewrite changes nothing but the fields we set.
        again = io.BytesIO()
        for rec in decoded:
            schema.encode(schema.root, rec, again)
        if again.getvalue() != block:
            raise ValueError(f"{path}: Avro records do not re-encode to the same bytes")
        records.extend(decoded)
    return header, schema, codec, sync, records


def _avro_write(path: str, header: bytes, schema: _Schema, codec: str, sync: bytes, records: list) -> None:
    """Writes the records in one block after the original header (schema, metadata, sync marker kept)."""
    body = io.BytesIO()
    for rec in records:
        schema.encode(schema.root, rec, body)
    block = body.getvalue()
    if codec == "deflate":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = c.compress(block) + c.flush()
    out = io.BytesIO()
    out.write(header)
    if records:
        out.write(_zigzag(len(records)))
        out.write(_zigzag(len(block)))
        out.write(block)
        out.write(sync)
    with open(path, "wb") as f:
        f.write(out.getvalue())


# --- the sample ------------------------------------------------------------------------------------


class Sample:
    def __init__(self, out_dir: str):
        self.out = os.path.abspath(out_dir)
        self.table_dir = os.path.join(self.out, "warehouse", "sales", "orders")
        self.scratch = tempfile.mkdtemp(prefix="iceberg-harness-sample-")
        # `file:/x` everywhere: with a `file:/` warehouse, Spark's Hadoop catalog spells the table
        # location like the paths in manifest lists and manifests, so one literal source prefix
        # covers them all (rewrite_table_path replaces prefixes literally).
        self.src_warehouse = "file:" + os.path.join(self.scratch, "warehouse")
        self.src_location = f"{self.src_warehouse}/sales/orders"
        self.spark = None

    def sql(self, q: str):
        t0 = time.time()
        rows = self.spark.sql(q).collect()
        env.log(f"  {' '.join(q.split())[:110]} ({time.time() - t0:.1f}s)")
        return rows

    def write_table(self) -> None:
        self.spark = env.spark_session()
        for k, v in {
            "": "org.apache.iceberg.spark.SparkCatalog",
            ".type": "hadoop",
            ".warehouse": self.src_warehouse,
            ".cache-enabled": "false",
        }.items():
            self.spark.conf.set(f"spark.sql.catalog.{CATALOG}{k}", v)
        t = f"{CATALOG}.{IDENT}"
        self.sql(
            f"""CREATE TABLE {t} (order_id bigint, region string, order_ts timestamp, amount decimal(10,2))
            USING iceberg PARTITIONED BY (region)
            TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read',
            'write.update.mode'='merge-on-read', 'write.merge.mode'='merge-on-read')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES
            (1, 'emea', TIMESTAMP'2024-03-01 09:15:00', 120.00), (2, 'emea', TIMESTAMP'2024-03-01 10:40:00', 35.50),
            (3, 'amer', TIMESTAMP'2024-03-01 14:05:00', 980.00), (4, 'amer', TIMESTAMP'2024-03-01 16:30:00', 12.99)"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES
            (5, 'emea', TIMESTAMP'2024-03-02 08:00:00', 64.00), (6, 'amer', TIMESTAMP'2024-03-02 11:20:00', 250.00),
            (7, 'amer', TIMESTAMP'2024-03-02 13:45:00', 19.90), (8, 'emea', TIMESTAMP'2024-03-02 17:10:00', 410.00)"""
        )
        self.sql(f"ALTER TABLE {t} CREATE TAG `end_of_day_2024_03_02`")
        # Merge-on-read: each DELETE writes one position-delete file. One row per statement on purpose:
        # Iceberg 1.10.1's rewrite_table_path rewrites only one delete file per delete manifest
        # (apache/iceberg#12772, fixed by #15155 after 1.10), so a commit that writes two delete files
        # would leave one of them out of the replica.
        self.sql(f"DELETE FROM {t} WHERE order_id = 2")
        self.sql(f"DELETE FROM {t} WHERE order_id = 7")
        self.sql(f"ALTER TABLE {t} ADD COLUMN channel string")
        self.sql(
            f"""INSERT INTO {t} VALUES
            (9, 'emea', TIMESTAMP'2024-03-03 09:30:00', 75.25, 'web'),
            (10, 'amer', TIMESTAMP'2024-03-03 12:00:00', 1500.00, 'store')"""
        )

    def rewrite_to_replica(self) -> dict[str, Any]:
        staging = os.path.join(self.scratch, "staging")
        row = self.sql(
            f"CALL {CATALOG}.system.rewrite_table_path(table => '{IDENT}', "
            f"source_prefix => '{self.src_location}', target_prefix => '{TARGET_PREFIX}', "
            f"staging_location => '{staging}')"
        )[0].asDict()
        latest, file_list = row["latest_version"], row["file_list_location"]
        rows: list[tuple[str, str]] = []
        with open(local_path(file_list), encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    src, dst = line.split(",")
                    rows.append((src, dst))
        for src, dst in rows:
            if not dst.startswith(TARGET_PREFIX + "/"):
                raise ValueError(f"file list target {dst!r} is not under {TARGET_PREFIX}")
            path = os.path.join(self.table_dir, dst[len(TARGET_PREFIX) + 1 :])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.isfile(local_path(src)):
                raise ValueError(
                    f"rewrite_table_path listed {src} but did not write it (apache/iceberg#12772: "
                    "only one position-delete file per delete manifest is rewritten before 1.11)"
                )
            shutil.copyfile(local_path(src), path)
        # A replicated Hadoop-layout table carries its version hint (no paths inside); the procedure's
        # list leaves it out because it is not table metadata proper.
        hint = os.path.join(local_path(self.src_location), "metadata", "version-hint.text")
        if os.path.isfile(hint):
            shutil.copyfile(hint, os.path.join(self.table_dir, "metadata", "version-hint.text"))
        env.log(f"rewrite_table_path -> {latest}, {len(rows)} files copied into {self.table_dir}")
        return {"latestVersion": latest, "filesInList": len(rows)}

    def local(self, location: str) -> str:
        if not location.startswith(TARGET_PREFIX + "/"):
            raise ValueError(f"{location!r} is not under {TARGET_PREFIX}")
        return os.path.join(self.table_dir, location[len(TARGET_PREFIX) + 1 :])

    def fix_sizes(self, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Corrects stale file_size_in_bytes (manifests) and manifest_length (manifest lists); see the module doc."""
        fixes: list[dict[str, Any]] = []
        written = {  # sizes as rewrite_table_path's output was copied, before any correction here
            os.path.join(d, f): os.path.getsize(os.path.join(d, f))
            for d, _dirs, fs in os.walk(self.table_dir)
            for f in fs
        }
        lists = sorted({s["manifest-list"] for s in metadata.get("snapshots", [])})
        manifests: set[str] = set()
        for ml in lists:
            for rec in _avro_read(self.local(ml))[4]:
                manifests.add(rec["manifest_path"].decode())
        deletes = 0
        for m in sorted(manifests):
            header, schema, codec, sync, records = _avro_read(self.local(m))
            changed = False
            for rec in records:
                df = rec["data_file"]
                deletes += 1 if df["content"] != 0 else 0
                path = df["file_path"].decode()
                actual = os.path.getsize(self.local(path))
                if df["file_size_in_bytes"] != actual:
                    fixes.append({"file": path, "in": m, "field": "file_size_in_bytes",
                                  "recorded": df["file_size_in_bytes"], "actual": actual,
                                  "staleInIcebergOutput": True})
                    df["file_size_in_bytes"] = actual
                    changed = True
            if changed:
                _avro_write(self.local(m), header, schema, codec, sync, records)
        entries = 0
        for ml in lists:
            header, schema, codec, sync, records = _avro_read(self.local(ml))
            changed = False
            for rec in records:
                path = rec["manifest_path"].decode()
                actual = os.path.getsize(self.local(path))
                if rec["manifest_length"] != actual:
                    # staleInIcebergOutput: false when only our correction of that manifest moved its size
                    fixes.append({"file": path, "in": ml, "field": "manifest_length",
                                  "recorded": rec["manifest_length"], "actual": actual,
                                  "staleInIcebergOutput": rec["manifest_length"] != written[self.local(path)]})
                    rec["manifest_length"] = actual
                    changed = True
            if changed:
                _avro_write(self.local(ml), header, schema, codec, sync, records)
            entries += len(records)
        self.size_summary = {
            "deleteFileSizesStale": sum(1 for f in fixes if f["field"] == "file_size_in_bytes"),
            "deleteFileEntries": deletes,
            "manifestLengthsStaleInIcebergOutput": sum(
                1 for f in fixes if f["field"] == "manifest_length" and f["staleInIcebergOutput"]
            ),
            "manifestListEntries": entries,
        }
        return fixes

    def check(self, metadata: dict[str, Any]) -> None:
        """Every recorded size matches; no scratch path is left anywhere in the replica."""
        if metadata["location"] != TARGET_PREFIX:
            raise ValueError(f"metadata location is {metadata['location']!r}, not {TARGET_PREFIX}")
        if self.stale_sizes(metadata):
            raise ValueError("sizes still differ after the fix-up")
        needle = local_path(self.src_location).encode()
        for d, _dirs, files in os.walk(self.table_dir):
            for f in files:
                with open(os.path.join(d, f), "rb") as fh:
                    if needle in fh.read():
                        raise ValueError(f"{os.path.join(d, f)} still holds the scratch location")

    def stale_sizes(self, metadata: dict[str, Any]) -> list[str]:
        """Paths whose size recorded in a manifest list or manifest differs from the file's."""
        bad = []
        for s in metadata.get("snapshots", []):
            for rec in _avro_read(self.local(s["manifest-list"]))[4]:
                mpath = rec["manifest_path"].decode()
                if rec["manifest_length"] != os.path.getsize(self.local(mpath)):
                    bad.append(mpath)
                for entry in _avro_read(self.local(mpath))[4]:
                    df = entry["data_file"]
                    if df["file_size_in_bytes"] != os.path.getsize(self.local(df["file_path"].decode())):
                        bad.append(df["file_path"].decode())
        return bad

    def run(self) -> dict[str, Any]:
        t0 = time.time()
        if os.path.exists(self.table_dir):
            shutil.rmtree(self.table_dir)
        try:
            self.write_table()
            rtp = self.rewrite_to_replica()
        finally:
            if os.environ.get("IMSYNC_SAMPLE_KEEP_SCRATCH"):
                env.log(f"scratch kept: {self.scratch}")
            else:
                shutil.rmtree(self.scratch, ignore_errors=True)
        for d, _dirs, files in os.walk(self.table_dir):
            for f in files:
                if f.startswith(".") and f.endswith(".crc"):
                    os.remove(os.path.join(d, f))
        current = os.path.join(self.table_dir, "metadata", rtp["latestVersion"])
        with open(current, encoding="utf-8") as f:
            metadata = json.load(f)
        fixes = self.fix_sizes(metadata)
        if fixes:
            env.log(f"corrected {len(fixes)} stale sizes left by rewrite_table_path")
        self.check(metadata)
        files = [os.path.join(d, f) for d, _dirs, fs in os.walk(self.table_dir) for f in fs]
        return {
            "icebergRuntime": env.iceberg_runtime_version(),
            "outDir": self.out,
            "tableDir": self.table_dir,
            "location": metadata["location"],
            "currentMetadata": current,
            "currentSnapshotId": str(metadata.get("current-snapshot-id")),
            "snapshots": len(metadata.get("snapshots", [])),
            "refs": {k: str(v["snapshot-id"]) for k, v in metadata.get("refs", {}).items()},
            "files": len(files),
            "bytes": sum(os.path.getsize(p) for p in files),
            "rewriteTablePath": rtp,
            "sizeFixSummary": self.size_summary,
            "sizeFixes": fixes,
            "seconds": round(time.time() - t0, 1),
        }


def run_sample(out_dir: str) -> dict[str, Any]:
    env.pin_utc()
    return Sample(out_dir).run()
