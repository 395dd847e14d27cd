"""Add-files interop: Parquet file sets, two reference `add_files` runs, and a writer-independent manifest dump.

- `addfiles-fixtures <out-dir>`: Parquet file sets written by pyarrow and by Spark (plain Parquet, Hive
  directories, and data files written by Iceberg through Spark, which carry field ids), with
  `<out-dir>/manifest.json` describing each set. Row contents are fixed.
- `addfiles-pyiceberg <spec>`: a PyIceberg SqlCatalog table created from a file's Parquet schema, then
  `Table.add_files(files)`.
- `addfiles-spark <spec>`: a Hadoop-catalog table created by Spark from `spark.read.parquet(dir).schema`,
  then Iceberg's own `CALL <cat>.system.add_files(table => ..., source_table => '`parquet`.`<dir>`')`.
- `dump-entries <metadata.json>`: the current snapshot's manifest list and manifests, as PyIceberg decodes
  them, with the values as written beside the values after inheritance.

Spec (addfiles-pyiceberg / addfiles-spark), one object or a list of them:
    {"catalogDb": "/abs/cat.db",            # PyIceberg only (created if missing)
     "warehouse": "/abs/warehouse",
     "identifier": "ns.t",
     "files": ["/abs/a.parquet", ...],      # PyIceberg: required; Spark: optional (see sourceDir)
     "sourceDir": "/abs/dir",               # Spark: the directory given to add_files (default: the files' folder)
     "formatVersion": 2,
     "partitionBy": [{"source": "dt", "transform": "identity", "name": "dt"}],   # optional
     "properties": {"k": "v"},              # optional
     "schemaFrom": "/abs/x.parquet",        # PyIceberg only; default the first file
     "schema": {...}}                       # PyIceberg only: Iceberg schema JSON instead of schemaFrom
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
import zlib
from typing import Any

from . import env
from .metadata import hadoop_current_metadata, local_path

PYICEBERG_CATALOG = "pyiceberg"
SPARK_CATALOG = "h_addfiles"  # Spark catalog name of the Hadoop catalog at the spec's warehouse


def _err(e: BaseException) -> str:
    """`Type: message` (multi-line messages kept, such as PyIceberg's schema comparison table; capped)."""
    text = str(e).strip()
    return f"{type(e).__name__}: {text[:3000]}" if text else type(e).__name__


# --- fixtures -----------------------------------------------------------------------------------------


def _flat_table(file_no: int, rows: int):
    """Deterministic rows for pyarrow_flat file `file_no` (0-based)."""
    import pyarrow as pa

    base = file_no * 100
    strings = [
        "a",
        "short",
        "a string longer than sixteen chars",
        "ünïcødé ☃ snow",
        "emoji 😀🎉 four-byte",
        "日本語のテキストは十六文字を超えています",
        "",
        "zzz last",
    ]
    binaries = [
        b"\x00",
        b"\xff" * 20,
        b"binary value longer than 16 bytes \x00\xff",
        b"\xca\xfe",
        b"",
        b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef",
    ]
    i32, i64, f32, f64, s, b, bo, d, ts, tstz, dec9, dec38, sparse = ([] for _ in range(13))
    for r in range(rows):
        k = base + r
        null = (r % 5) == 3  # nulls sprinkled in most columns
        i32.append(None if null else (k * 7 - 300) * (1 if r % 2 else -1))
        i64.append(None if null else k * 10_000_000_000 - 5)
        f32.append(None if r % 6 == 1 else (float("nan") if r % 7 == 2 else k / 4 - 10))
        f64.append(None if r % 6 == 4 else (float("nan") if r % 4 == 0 and file_no != 2 else k * 1.5 - 100.25))
        s.append(None if null else strings[(k + file_no) % len(strings)])
        b.append(None if r % 5 == 1 else binaries[k % len(binaries)])
        bo.append(None if null else (k % 3 == 0))
        d.append(None if null else _dt.date(2024, 1, 1) + _dt.timedelta(days=k * 3 - 40))
        ts.append(None if null else _dt.datetime(2024, 3, 10, 1, 2, 3) + _dt.timedelta(hours=k * 5, microseconds=k))
        tstz.append(
            None
            if null
            else _dt.datetime(2023, 12, 31, 23, 0, 0, tzinfo=_dt.timezone.utc) + _dt.timedelta(minutes=k * 37, microseconds=7)
        )
        dec9.append(None if null else decimal.Decimal(k * 131 - 2500).scaleb(-2))
        dec38.append(
            None if null else decimal.Decimal(f"{'-' if k % 2 else ''}{k}1234567890123456789.0123456789")
        )
        sparse.append(None if file_no == 1 or r % 2 else f"sparse-{k}")
    return pa.table(
        {
            "c_int32": pa.array(i32, pa.int32()),
            "c_int64": pa.array(i64, pa.int64()),
            "c_float32": pa.array(f32, pa.float32()),
            "c_float64": pa.array(f64, pa.float64()),
            "c_string": pa.array(s, pa.string()),
            "c_binary": pa.array(b, pa.binary()),
            "c_bool": pa.array(bo, pa.bool_()),
            "c_date": pa.array(d, pa.date32()),
            "c_ts": pa.array(ts, pa.timestamp("us")),
            "c_tstz": pa.array(tstz, pa.timestamp("us", tz="UTC")),
            "c_dec9": pa.array(dec9, pa.decimal128(9, 2)),
            "c_dec38": pa.array(dec38, pa.decimal128(38, 10)),
            "c_sparse": pa.array(sparse, pa.string()),
        }
    )


def _nested_table(file_no: int, rows: int):
    import pyarrow as pa

    st_type = pa.struct([("a", pa.int32()), ("s", pa.string()), ("inner", pa.struct([("x", pa.float64())]))])
    ids, st, lst, mp = [], [], [], []
    for r in range(rows):
        k = file_no * 100 + r
        ids.append(k)
        st.append(None if r % 4 == 3 else {"a": None if r % 3 == 2 else k, "s": f"nested-{k}-é", "inner": {"x": k / 8}})
        lst.append(None if r % 5 == 4 else [k * j for j in range(r % 4)] + ([None] if r % 3 == 0 else []))
        mp.append(None if r % 6 == 5 else [(f"key{j}", None if j == 1 else k + j) for j in range(r % 3)])
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "st": pa.array(st, st_type),
            "lst": pa.array(lst, pa.list_(pa.int64())),
            "m": pa.array(mp, pa.map_(pa.string(), pa.int64())),
        }
    )


def _field_ids_table(file_no: int, rows: int, ids: tuple[int, int, int, int] = (1, 2, 3, 4)):
    import pyarrow as pa

    def field(name, typ, fid, nullable=True):
        return pa.field(name, typ, nullable=nullable, metadata={b"PARQUET:field_id": str(fid).encode()})

    schema = pa.schema(
        [
            field("id", pa.int64(), ids[0], nullable=False),
            field("name", pa.string(), ids[1]),
            field("amount", pa.float64(), ids[2]),
            field("day", pa.date32(), ids[3]),
        ]
    )
    k0 = file_no * 100
    return pa.table(
        {
            "id": [k0 + r for r in range(rows)],
            "name": [None if r % 4 == 2 else f"name-{k0 + r}" for r in range(rows)],
            "amount": [None if r % 5 == 0 else (k0 + r) * 0.75 for r in range(rows)],
            "day": [_dt.date(2024, 6, 1) + _dt.timedelta(days=file_no * 10 + r) for r in range(rows)],
        },
        schema=schema,
    )


def _partitioned_table(file_no: int, rows: int):
    """One `day`, one `region` and timestamps within one day per file: partition values follow from the stats."""
    import pyarrow as pa

    day = _dt.date(2024, 2, 28) + _dt.timedelta(days=file_no // 2)  # Feb 28 and the leap day
    region = "eu" if file_no % 2 == 0 else "us"
    k0 = file_no * 100
    return pa.table(
        {
            "id": pa.array([k0 + r for r in range(rows)], pa.int64()),
            "day": pa.array([day] * rows, pa.date32()),
            "region": pa.array([region] * rows, pa.string()),
            "ts": pa.array(
                [_dt.datetime.combine(day, _dt.time(r % 24, r * 7 % 60)) for r in range(rows)], pa.timestamp("us")
            ),
            "qty": pa.array([None if r % 4 == 1 else r * 3 for r in range(rows)], pa.int32()),
        }
    )


def _hive_table(dt_no: int, region: str, rows: int):
    import pyarrow as pa

    k0 = dt_no * 1000 + (0 if region == "eu" else 500)
    return pa.table(
        {
            "id": pa.array([k0 + r for r in range(rows)], pa.int64()),
            "qty": pa.array([None if r % 3 == 2 else (k0 + r) % 97 for r in range(rows)], pa.int32()),
            "note": pa.array([f"{region}-{dt_no}-{r}" for r in range(rows)], pa.string()),
        }
    )


def _data_files(root: str) -> list[str]:
    """Parquet data files below root: no hidden/underscore names (Spark's _SUCCESS, .crc files)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        for f in filenames:
            if f.endswith(".parquet") and not f.startswith((".", "_")):
                out.append(os.path.join(dirpath, f))
    return sorted(out)


def _parquet_rows(files: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in files)


class Fixtures:
    def __init__(self, out_dir: str):
        self.out = os.path.abspath(out_dir)
        self.sets: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []

    def add(self, name: str, writer: str, field_ids: bool, nested: bool, hive: bool, root: str, part_cols=None, notes=None):
        files = _data_files(root)
        entry = {
            "name": name,
            "writer": writer,
            "fieldIds": field_ids,
            "nested": nested,
            "hive": hive,
            "root": root,
            "files": files,
            "partitionColumns": part_cols or [],
            "rowCount": _parquet_rows(files),
        }
        if notes:
            entry["notes"] = notes
        self.sets.append(entry)

    def fresh(self, name: str) -> str:
        root = os.path.join(self.out, name)
        if os.path.exists(root):
            shutil.rmtree(root)
        os.makedirs(root)
        return root

    def attempt(self, name: str, fn) -> None:
        t0 = time.time()
        try:
            fn(name)
        except Exception as e:  # noqa: BLE001
            env.log(f"  SKIPPED {name}: {_err(e)}")
            self.skipped.append({"name": name, "reason": _err(e)})
            return
        env.log(f"set {name} done in {time.time() - t0:.1f}s")

    # pyarrow sets

    def pyarrow_flat(self, name: str) -> None:
        import pyarrow.parquet as pq

        root = self.fresh(name)
        for i in range(3):
            pq.write_table(_flat_table(i, 11), os.path.join(root, f"flat-{i}.parquet"), row_group_size=4)
        self.add(name, "pyarrow", False, False, False, root, notes="row groups of 4 rows; c_sparse is all null in flat-1")

    def pyarrow_nested(self, name: str) -> None:
        import pyarrow.parquet as pq

        root = self.fresh(name)
        for i in range(2):
            pq.write_table(_nested_table(i, 9), os.path.join(root, f"nested-{i}.parquet"), row_group_size=5)
        self.add(name, "pyarrow", False, True, False, root)

    def pyarrow_field_ids(self, name: str) -> None:
        import pyarrow.parquet as pq

        root = self.fresh(name)
        for i in range(2):
            pq.write_table(_field_ids_table(i, 7), os.path.join(root, f"ids-{i}.parquet"))
        self.add(name, "pyarrow", True, False, False, root, notes="field ids 1..4 in column order; id is required")

    def pyarrow_field_ids_mismatch(self, name: str) -> None:
        import pyarrow.parquet as pq

        root = self.fresh(name)
        for i in range(2):
            pq.write_table(_field_ids_table(i, 5, (4, 3, 2, 1)), os.path.join(root, f"ids-{i}.parquet"))
        self.add(
            name,
            "pyarrow",
            True,
            False,
            False,
            root,
            notes="field ids in reverse column order (id=4, name=3, amount=2, day=1): a table created from this "
            "schema with fresh ids numbers them 1..4 in column order, so file ids and table ids disagree",
        )

    def pyarrow_partitioned(self, name: str) -> None:
        import pyarrow.parquet as pq

        root = self.fresh(name)
        for i in range(4):
            pq.write_table(_partitioned_table(i, 6 + i), os.path.join(root, f"part-{i}.parquet"))
        self.add(
            name,
            "pyarrow",
            False,
            False,
            False,
            root,
            notes="each file holds one day, one region and timestamps of one day: identity(day|region), "
            "day(ts), month(day) ... partitions can be inferred from the column bounds",
        )

    def pyarrow_hive(self, name: str) -> None:
        import pyarrow.parquet as pq

        root = self.fresh(name)
        for d in (1, 2, 3):
            for region in ("eu", "us"):
                folder = os.path.join(root, f"dt=2024-01-0{d}", f"region={region}")
                os.makedirs(folder)
                pq.write_table(_hive_table(d, region, 4 + d), os.path.join(folder, "part-0.parquet"))
        self.add(
            name,
            "pyarrow",
            False,
            False,
            True,
            root,
            [{"name": "dt", "type": "date"}, {"name": "region", "type": "string"}],
        )

    # Spark sets

    def spark_df(self, rows: int, parts: int):
        spark = env.spark_session()
        return spark.range(0, rows, 1, parts).selectExpr(
            "id",
            "cast(id * 3 - 20 as int) as i",
            "case when id % 5 = 3 then null else cast(id * 1.25 as double) end as d",
            "case when id % 4 = 1 then null else concat('row-', cast(id as string), ' ✓ longer than sixteen') end as s",
            "date_add(DATE'2024-01-01', cast(id as int)) as day",
            "timestamp_seconds(1704067200 + id * 3601) as ts",
            "cast(timestamp_seconds(1704067200 + id * 60) as timestamp_ntz) as ts_ntz",
            "cast(id * 1.5 - 7 as decimal(10,2)) as dec",
            "id % 3 = 0 as flag",
            "case when id % 6 = 0 then null else unhex(concat('ff00', hex(id))) end as bin",
            "date_add(DATE'2024-01-01', cast(id % 3 as int)) as dt",
            "case when id % 2 = 0 then 'eu' else 'us' end as region",
        )

    def spark_flat(self, name: str) -> None:
        root = self.fresh(name)
        os.rmdir(root)
        self.spark_df(30, 3).drop("dt", "region").write.parquet("file://" + root)
        self.add(
            name,
            "spark",
            False,
            False,
            False,
            root,
            notes="Spark's default outputTimestampType: ts (timestamp) is INT96, ts_ntz is INT64 micros; "
            "_SUCCESS and .crc side files left in place",
        )

    def spark_hive(self, name: str) -> None:
        root = self.fresh(name)
        os.rmdir(root)
        self.spark_df(24, 2).write.partitionBy("dt", "region").parquet("file://" + root)
        self.add(
            name,
            "spark",
            False,
            False,
            True,
            root,
            [{"name": "dt", "type": "date"}, {"name": "region", "type": "string"}],
            notes="ts is INT96; _SUCCESS and .crc side files left in place",
        )

    def spark_iceberg_ids(self, name: str) -> None:
        root = self.fresh(name)
        spark = env.spark_session()
        wh = tempfile.mkdtemp(prefix="addfiles-iceberg-")
        cat = "h_fixture"
        try:
            spark.conf.set(f"spark.sql.catalog.{cat}", "org.apache.iceberg.spark.SparkCatalog")
            spark.conf.set(f"spark.sql.catalog.{cat}.type", "hadoop")
            spark.conf.set(f"spark.sql.catalog.{cat}.warehouse", "file://" + wh)
            spark.conf.set(f"spark.sql.catalog.{cat}.cache-enabled", "false")
            t = f"{cat}.db.ids"
            spark.sql(
                f"CREATE TABLE {t} (id bigint, name string, amount decimal(10,2), ts timestamp, "
                "tags array<string>) USING iceberg TBLPROPERTIES ('format-version'='2')"
            ).collect()
            spark.sql(
                f"INSERT INTO {t} VALUES (1, 'one', 1.10, TIMESTAMP'2024-01-01 00:00:01', array('a')), "
                "(2, null, 2.20, TIMESTAMP'2024-01-02 00:00:02', array()), (3, 'three ü', null, null, null)"
            ).collect()
            spark.sql(
                f"INSERT INTO {t} VALUES (4, 'four', 4.40, TIMESTAMP'2024-02-01 00:00:04', array('b', null)), "
                "(5, 'five', -5.50, TIMESTAMP'2024-02-02 00:00:05', array('c'))"
            ).collect()
            for i, f in enumerate(_data_files(os.path.join(wh, "db", "ids", "data"))):
                shutil.copyfile(f, os.path.join(root, f"iceberg-{i}-{os.path.basename(f)}"))
        finally:
            shutil.rmtree(wh, ignore_errors=True)
        self.add(
            name,
            "spark",
            True,
            True,
            False,
            root,
            notes="written by Iceberg 1.10.1 through Spark: field ids 1..5, list element id 6; timestamps INT64 micros UTC-adjusted",
        )

    def run(self) -> dict[str, Any]:
        t0 = time.time()
        os.makedirs(self.out, exist_ok=True)
        for name in (
            "pyarrow_flat",
            "pyarrow_nested",
            "pyarrow_field_ids",
            "pyarrow_field_ids_mismatch",
            "pyarrow_partitioned",
            "pyarrow_hive",
        ):
            self.attempt(name, getattr(self, name))
        env.spark_session()
        for name in ("spark_flat", "spark_hive", "spark_iceberg_ids"):
            self.attempt(name, getattr(self, name))
        doc = {"outDir": self.out, "seconds": round(time.time() - t0, 1), "sets": self.sets, "skipped": self.skipped}
        with open(os.path.join(self.out, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
        return doc


def run_addfiles_fixtures(out_dir: str) -> dict[str, Any]:
    return Fixtures(out_dir).run()


# --- dump-entries ---------------------------------------------------------------------------------------


def _hex(b: bytes | None) -> str | None:
    return None if b is None else bytes(b).hex()


def _id_map(m: dict[int, Any] | None, conv=lambda v: v) -> dict[str, Any] | None:
    if m is None:
        return None
    return {str(k): conv(v) for k, v in sorted(m.items())}


def _partition_value(value: Any, result_type) -> Any:
    """A partition value as JSON: dates/times/timestamps ISO, decimals as strings, binary as hex."""
    from pyiceberg.types import DateType, DecimalType, TimestampType, TimestamptzType, TimeType

    if value is None:
        return None
    if isinstance(result_type, DateType) and isinstance(value, int):
        return (_dt.date(1970, 1, 1) + _dt.timedelta(days=value)).isoformat()
    if isinstance(result_type, (TimestampType, TimestamptzType)) and isinstance(value, int):
        tz = _dt.timezone.utc if isinstance(result_type, TimestamptzType) else None
        return (_dt.datetime(1970, 1, 1, tzinfo=tz) + _dt.timedelta(microseconds=value)).isoformat()
    if isinstance(result_type, TimeType) and isinstance(value, int):
        return (_dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=value)).time().isoformat()
    if isinstance(result_type, DecimalType) or isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return value


def _enum(v: Any) -> Any:
    return v.value if hasattr(v, "value") else v


def _str_id(v: int | None) -> str | None:
    return None if v is None else str(v)


def dump_entries(metadata_path: str) -> dict[str, Any]:
    """The current snapshot's manifests and entries of the table at `metadata_path` (see module docstring)."""
    from pyiceberg.avro.file import AvroFile
    from pyiceberg.manifest import (
        DATA_FILE_TYPE,
        DEFAULT_READ_VERSION,
        MANIFEST_ENTRY_SCHEMAS,
        DataFile,
        DataFileContent,
        FileFormat,
        ManifestEntry,
        ManifestEntryStatus,
        _inherit_from_manifest,
    )
    from pyiceberg.table import StaticTable

    table = StaticTable.from_metadata(metadata_path)
    md = table.metadata
    snap = table.current_snapshot()
    doc: dict[str, Any] = {
        "metadataLocation": metadata_path,
        "formatVersion": md.format_version,
        "snapshotId": None,
        "sequenceNumber": None,
        "summary": None,
        "manifests": [],
        "entries": [],
    }
    if snap is None:
        return doc
    doc["snapshotId"] = str(snap.snapshot_id)
    doc["sequenceNumber"] = snap.sequence_number
    # The summary as written in the metadata JSON (PyIceberg's Summary object folds `operation` in).
    from .metadata import read_metadata

    raw = next(
        (s for s in read_metadata(metadata_path).get("snapshots", []) if s.get("snapshot-id") == snap.snapshot_id), {}
    )
    doc["summary"] = raw.get("summary")
    specs = table.specs()
    schema = table.schema()
    # v3 manifests: read with the v3 entry schema (the v2 fields keep their positions, the v3 ones follow).
    read_version = 3 if md.format_version >= 3 and 3 in MANIFEST_ENTRY_SCHEMAS else DEFAULT_READ_VERSION
    v3_names = [f.name for f in DATA_FILE_TYPE[read_version].fields] if read_version == 3 else []
    entries = []
    if read_version == 3:
        # PyIceberg reads manifest lists with its v2 schema: read v3 lists with the v3 one (first_row_id last).
        from pyiceberg.manifest import MANIFEST_LIST_FILE_SCHEMAS, ManifestContent, ManifestFile, PartitionFieldSummary

        list_names = [f.name for f in MANIFEST_LIST_FILE_SCHEMAS[3].fields]
        with AvroFile[ManifestFile](
            table.io.new_input(snap.manifest_list),
            MANIFEST_LIST_FILE_SCHEMAS[3],
            read_types={-1: ManifestFile, 508: PartitionFieldSummary},
            read_enums={517: ManifestContent},
        ) as reader:
            manifest_files = list(reader)
    else:
        list_names = []
        manifest_files = snap.manifests(table.io)
    for mf in manifest_files:
        doc["manifests"].append(
            {
                "path": mf.manifest_path,
                "length": mf.manifest_length,
                "content": _enum(mf.content),
                "addedFilesCount": mf.added_files_count,
                "existingFilesCount": mf.existing_files_count,
                "deletedFilesCount": mf.deleted_files_count,
                "addedRowsCount": mf.added_rows_count,
                "existingRowsCount": mf.existing_rows_count,
                "deletedRowsCount": mf.deleted_rows_count,
                "partitionSpecId": mf.partition_spec_id,
                "addedSnapshotId": _str_id(mf.added_snapshot_id),
                "sequenceNumber": mf.sequence_number,
                "minSequenceNumber": mf.min_sequence_number,
                "keyMetadata": _hex(mf.key_metadata),
                "partitions": None
                if mf.partitions is None
                else [
                    {
                        "containsNull": p.contains_null,
                        "containsNan": p.contains_nan,
                        "lowerBound": _hex(p.lower_bound),
                        "upperBound": _hex(p.upper_bound),
                    }
                    for p in mf.partitions
                ],
            }
        )
        if md.format_version >= 3:
            raw_list = {n: mf._data[i] for i, n in enumerate(list_names) if i < len(mf._data)}
            doc["manifests"][-1]["firstRowId"] = _str_id(raw_list.get("first_row_id"))
        # ManifestFile.fetch_manifest_entry applies inheritance in place; read the entries ourselves so the
        # values as written (null = inherited) can be reported beside the inherited ones.
        with AvroFile[ManifestEntry](
            table.io.new_input(mf.manifest_path),
            MANIFEST_ENTRY_SCHEMAS[read_version],
            read_types={-1: ManifestEntry, 2: DataFile},
            read_enums={0: ManifestEntryStatus, 101: FileFormat, 134: DataFileContent},
        ) as reader:
            raw_entries = list(reader)
        for entry in raw_entries:
            written = {
                "snapshotId": _str_id(entry.snapshot_id),
                "sequenceNumber": entry.sequence_number,
                "fileSequenceNumber": entry.file_sequence_number,
            }
            entry = _inherit_from_manifest(entry, mf)
            df = entry.data_file
            spec = specs.get(df.spec_id if df.spec_id is not None else mf.partition_spec_id)
            partition: dict[str, Any] = {}
            if spec is not None:
                ptype = spec.partition_type(schema)
                for i, pf in enumerate(spec.fields):
                    try:
                        value = df.partition[i]
                    except (IndexError, TypeError):
                        value = None
                    partition[pf.name] = _partition_value(value, ptype.fields[i].field_type)
            entries.append(
                {
                    "status": _enum(entry.status),
                    "snapshotId": _str_id(entry.snapshot_id),
                    "sequenceNumber": entry.sequence_number,
                    "fileSequenceNumber": entry.file_sequence_number,
                    "written": written,
                    "manifestPath": mf.manifest_path,
                    "content": _enum(df.content),
                    "filePath": df.file_path,
                    "fileFormat": str(_enum(df.file_format)),
                    "specId": df.spec_id,
                    "partition": partition,
                    "recordCount": df.record_count,
                    "fileSizeInBytes": df.file_size_in_bytes,
                    "columnSizes": _id_map(df.column_sizes),
                    "valueCounts": _id_map(df.value_counts),
                    "nullValueCounts": _id_map(df.null_value_counts),
                    "nanValueCounts": _id_map(df.nan_value_counts),
                    "lowerBounds": _id_map(df.lower_bounds, _hex),
                    "upperBounds": _id_map(df.upper_bounds, _hex),
                    "splitOffsets": None if df.split_offsets is None else list(df.split_offsets),
                    "equalityIds": None if df.equality_ids is None else list(df.equality_ids),
                    "sortOrderId": df.sort_order_id,
                    "keyMetadata": _hex(df.key_metadata),
                }
            )
            if v3_names:
                raw_v3 = {n: df._data[i] for i, n in enumerate(v3_names) if i < len(df._data)}
                entries[-1]["v3"] = {
                    "firstRowId": _str_id(raw_v3.get("first_row_id")),
                    "referencedDataFile": raw_v3.get("referenced_data_file"),
                    "contentOffset": raw_v3.get("content_offset"),
                    "contentSizeInBytes": raw_v3.get("content_size_in_bytes"),
                }
    entries.sort(key=lambda e: (e["filePath"], e["manifestPath"]))
    doc["entries"] = entries
    return doc


def run_dump_entries(metadata_path: str) -> dict[str, Any]:
    try:
        return dump_entries(metadata_path)
    except Exception as e:  # noqa: BLE001
        return {"metadataLocation": metadata_path, "error": _err(e)}


# --- add_files runs -----------------------------------------------------------------------------------


def _table_doc(metadata_location: str) -> dict[str, Any]:
    from .metadata import read_metadata

    md = read_metadata(metadata_location)
    schema = next((s for s in md.get("schemas", []) if s.get("schema-id") == md.get("current-schema-id")), md.get("schema"))
    spec = next(
        (s for s in md.get("partition-specs", []) if s.get("spec-id") == md.get("default-spec-id")),
        {"spec-id": 0, "fields": md.get("partition-spec", [])},
    )
    doc = {
        "metadataLocation": local_path(metadata_location),
        "schema": schema,
        "spec": spec,
        "properties": md.get("properties", {}),
    }
    dumped = dump_entries(local_path(metadata_location))
    doc["snapshotId"] = dumped["snapshotId"]
    doc["summary"] = dumped["summary"]
    doc["manifests"] = dumped["manifests"]
    doc["entries"] = dumped["entries"]
    return doc


_TRANSFORM = re.compile(r"^(identity|year|month|day|hour|void|bucket\[(\d+)\]|truncate\[(\d+)\])$")


def _pyiceberg_transform(name: str):
    from pyiceberg.transforms import parse_transform

    if not _TRANSFORM.match(name):
        raise ValueError(f"unknown transform {name!r}")
    return parse_transform(name)


def _file_field_ids(arrow_schema) -> dict[str, int]:
    """Top-level and nested `PARQUET:field_id`s of an arrow schema, by dotted name."""
    import pyarrow as pa

    out: dict[str, int] = {}

    def walk(field, prefix):
        name = prefix + field.name
        if field.metadata and b"PARQUET:field_id" in field.metadata:
            out[name] = int(field.metadata[b"PARQUET:field_id"])
        t = field.type
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                walk(t.field(i), name + ".")
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            walk(t.value_field, name + ".")
        elif pa.types.is_map(t):
            walk(t.key_field, name + ".")
            walk(t.item_field, name + ".")

    for f in arrow_schema:
        walk(f, "")
    return out


def pyiceberg_add_files(spec: dict[str, Any]) -> dict[str, Any]:
    import pyarrow.parquet as pq
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids, pyarrow_to_schema
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import assign_fresh_schema_ids

    t0 = time.time()
    files = [os.path.abspath(f) for f in spec["files"]]
    warehouse = os.path.abspath(spec["warehouse"])
    os.makedirs(warehouse, exist_ok=True)
    db = os.path.abspath(spec["catalogDb"])
    os.makedirs(os.path.dirname(db), exist_ok=True)
    fv = int(spec.get("formatVersion", 2))
    cat = SqlCatalog(PYICEBERG_CATALOG, uri="sqlite:///" + db, warehouse="file://" + warehouse)
    ns, _, _ = spec["identifier"].rpartition(".")
    try:
        cat.create_namespace(ns)
    except Exception:  # noqa: BLE001  (already there)
        pass
    arrow_schema = pq.read_schema(spec.get("schemaFrom") or files[0])
    file_ids = _file_field_ids(arrow_schema)
    notes = []
    if spec.get("schema") is not None:
        from pyiceberg.schema import Schema

        schema = Schema.model_validate(spec["schema"])  # given as Iceberg schema JSON: ids as given
    elif file_ids:
        schema = pyarrow_to_schema(arrow_schema, format_version=fv)
    else:
        # Without ids every field gets -1: number them (as create_table would) so the spec can name sources.
        schema = assign_fresh_schema_ids(_pyarrow_to_schema_without_ids(arrow_schema, format_version=fv))
    fields = []
    for i, p in enumerate(spec.get("partitionBy") or []):
        src = schema.find_field(p["source"])
        tr = p.get("transform", "identity")
        fields.append(
            PartitionField(
                source_id=src.field_id,
                field_id=1000 + i,
                transform=_pyiceberg_transform(tr),
                name=p.get("name") or (p["source"] if tr == "identity" else f"{p['source']}_{tr.split('[')[0]}"),
            )
        )
    props = {"format-version": str(fv), **{k: str(v) for k, v in (spec.get("properties") or {}).items()}}
    table = cat.create_table(spec["identifier"], schema=schema, partition_spec=PartitionSpec(*fields), properties=props)
    if file_ids:
        # create_table assigns fresh ids (as Java does); report whether they still match the file's.
        table_ids = {table.schema().find_column_name(i): i for i in table.schema()._lazy_id_to_name}
        differ = {n: [fid, table_ids.get(n)] for n, fid in file_ids.items() if table_ids.get(n) != fid}
        notes.append(
            "file carries field ids; create_table reassigned ids"
            + (f", differing: {json.dumps(differ)}" if differ else " and they equal the file's")
        )
    try:
        table.add_files(files)
    except Exception as e:  # noqa: BLE001
        out = {"error": _err(e), "metadataLocation": local_path(table.metadata_location)}
        if notes:
            out["notes"] = notes
        return out
    table = cat.load_table(spec["identifier"])
    doc = _table_doc(table.metadata_location)
    if notes:
        doc["notes"] = notes
    doc["seconds"] = round(time.time() - t0, 2)
    return doc


def _spark_partition_expr(p: dict[str, Any]) -> str:
    tr = p.get("transform", "identity")
    m = _TRANSFORM.match(tr)
    if not m:
        raise ValueError(f"unknown transform {tr!r}")
    col = f"`{p['source']}`"
    if tr == "identity":
        return col
    if m.group(2):
        return f"bucket({m.group(2)}, {col})"
    if m.group(3):
        return f"truncate({m.group(3)}, {col})"
    return {"year": "years", "month": "months", "day": "days", "hour": "hours"}.get(tr, tr) + f"({col})"


def spark_add_files(spec: dict[str, Any]) -> dict[str, Any]:
    t0 = time.time()
    warehouse = os.path.abspath(spec["warehouse"])
    os.makedirs(warehouse, exist_ok=True)
    spark = env.spark_session()
    # One Hadoop catalog per warehouse: catalogs are created lazily from the session conf on first use.
    cat = f"{SPARK_CATALOG}_{zlib.crc32(warehouse.encode()):08x}"
    spark.conf.set(f"spark.sql.catalog.{cat}", "org.apache.iceberg.spark.SparkCatalog")
    spark.conf.set(f"spark.sql.catalog.{cat}.type", "hadoop")
    spark.conf.set(f"spark.sql.catalog.{cat}.warehouse", "file://" + warehouse)
    spark.conf.set(f"spark.sql.catalog.{cat}.cache-enabled", "false")
    source = spec.get("sourceDir")
    if not source:
        dirs = {os.path.dirname(os.path.abspath(f)) for f in spec.get("files") or []}
        if len(dirs) != 1:
            return {"error": "give sourceDir: the files do not lie in exactly one folder"}
        source = dirs.pop()
    source = os.path.abspath(source)
    ident = spec["identifier"]
    ns, _, _ = ident.rpartition(".")
    fv = int(spec.get("formatVersion", 2))
    try:
        spark_schema = spark.read.parquet("file://" + source).schema
        ddl = spark.read.parquet("file://" + source)._jdf.schema().toDDL()
        parts = [_spark_partition_expr(p) for p in spec.get("partitionBy") or []]
        props = {"format-version": str(fv), **{k: str(v) for k, v in (spec.get("properties") or {}).items()}}
        props_sql = ", ".join(f"'{k}'='{v}'" for k, v in props.items())
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {cat}.{ns}").collect()
        spark.sql(
            f"CREATE TABLE {cat}.{ident} ({ddl}) USING iceberg"
            + (f" PARTITIONED BY ({', '.join(parts)})" if parts else "")
            + f" TBLPROPERTIES ({props_sql})"
        ).collect()
        inferred = {f.name: f.dataType.simpleString() for f in spark_schema.fields}
        rows = spark.sql(
            f"CALL {cat}.system.add_files(table => '{ident}', source_table => '`parquet`.`file://{source}`')"
        ).collect()
        procedure = rows[0].asDict() if rows else {}
    except Exception as e:  # noqa: BLE001
        return {"error": _err(e)}
    table_dir = os.path.join(warehouse, *ident.split("."))
    doc = _table_doc(hadoop_current_metadata(table_dir))
    doc["sparkSchema"] = inferred
    doc["procedure"] = {k: (v if isinstance(v, (int, str, bool)) or v is None else str(v)) for k, v in procedure.items()}
    doc["seconds"] = round(time.time() - t0, 2)
    return doc


def _each(spec: Any, fn) -> dict[str, Any]:
    if isinstance(spec, list):
        out = []
        for s in spec:
            try:
                out.append(fn(s))
            except Exception as e:  # noqa: BLE001
                out.append({"error": _err(e)})
        return {"tables": out}
    try:
        return fn(spec)
    except Exception as e:  # noqa: BLE001
        return {"error": _err(e)}


def run_addfiles_pyiceberg(spec: Any) -> dict[str, Any]:
    return _each(spec, pyiceberg_add_files)


def run_addfiles_spark(spec: Any) -> dict[str, Any]:
    return _each(spec, spark_add_files)


__all__ = [
    "run_addfiles_fixtures",
    "run_addfiles_pyiceberg",
    "run_addfiles_spark",
    "run_dump_entries",
    "dump_entries",
]
