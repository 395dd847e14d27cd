"""`generate <out-dir>`: write small, fixed-content Iceberg tables with Apache Iceberg's own writers.

Writers: Spark 4.0 + iceberg-spark-runtime (Hadoop catalog `h` and a JDBC catalog on sqlite) and
PyIceberg (SqlCatalog on sqlite). Everything lands under <out-dir>: the tables in <out-dir>/warehouse,
the sqlite catalogs beside it, and <out-dir>/manifest.json describing each table.

Row contents are fixed (no random data, no clock-derived values); ids, file names and timestamps of
commits differ from run to run, as they would for any writer.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from . import env
from .metadata import local_path, read_metadata, resolve_metadata_location, summarize

HADOOP = "h"  # Spark catalog name of the Hadoop catalog
SPARK_JDBC = "spark_jdbc"  # Spark catalog name (= Iceberg catalog name stored in sqlite) of the JDBC catalog
PYICEBERG = "pyiceberg"  # PyIceberg SqlCatalog name


class Generator:
    def __init__(self, out_dir: str):
        self.out = os.path.abspath(out_dir)
        self.warehouse = os.path.join(self.out, "warehouse")
        self.warehouse_uri = "file://" + self.warehouse
        self.spark_jdbc_db = os.path.join(self.out, "spark_jdbc_catalog.db")
        self.pyiceberg_db = os.path.join(self.out, "pyiceberg_catalog.db")
        self.tables: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []
        self.spark = None

    # --- helpers -------------------------------------------------------------

    def catalog_spec(self, which: str) -> dict[str, Any]:
        if which == HADOOP:
            return {"type": "hadoop", "warehouse": self.warehouse}
        if which == SPARK_JDBC:
            return {
                "type": "jdbc",
                "uri": "jdbc:sqlite:" + self.spark_jdbc_db,
                "name": SPARK_JDBC,
                "warehouse": self.warehouse_uri,
            }
        return {
            "type": "sql",
            "uri": "jdbc:sqlite:" + self.pyiceberg_db,
            "name": PYICEBERG,
            "warehouse": self.warehouse_uri,
        }

    def sql(self, q: str):
        t0 = time.time()
        res = self.spark.sql(q)
        rows = res.collect()
        env.log(f"  {q.strip().splitlines()[0][:110]} ({time.time() - t0:.1f}s)")
        return rows

    def record(self, name: str, catalog: str, identifier: str, writer: str, features: list[str]) -> None:
        spec = self.catalog_spec(catalog)
        mloc = resolve_metadata_location({"catalog": spec, "identifier": identifier})
        summary = summarize(read_metadata(mloc))
        self.tables.append(
            {
                "name": name,
                "identifier": identifier,
                "catalog": spec,
                "writer": writer,
                "formatVersion": summary["formatVersion"],
                "location": summary["location"],
                "locationPath": local_path(summary["location"]),
                "currentMetadata": local_path(mloc),
                "currentSnapshotId": summary["currentSnapshotId"],
                "snapshotCount": len(summary["snapshots"]),
                "refs": summary["refs"],
                "features": features,
            }
        )

    def attempt(self, name: str, fn) -> None:
        t0 = time.time()
        env.log(f"table {name}")
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            msg = str(e).strip().splitlines()[0][:500] if str(e).strip() else type(e).__name__
            env.log(f"  SKIPPED {name}: {msg}")
            self.skipped.append({"name": name, "reason": msg})
            return
        env.log(f"  {name} done in {time.time() - t0:.1f}s")

    # --- Spark tables ----------------------------------------------------------

    def start_spark(self) -> None:
        self.spark = env.spark_session(
            {
                f"spark.sql.catalog.{HADOOP}": "org.apache.iceberg.spark.SparkCatalog",
                f"spark.sql.catalog.{HADOOP}.type": "hadoop",
                f"spark.sql.catalog.{HADOOP}.warehouse": self.warehouse_uri,
                f"spark.sql.catalog.{HADOOP}.cache-enabled": "false",
                f"spark.sql.catalog.{SPARK_JDBC}": "org.apache.iceberg.spark.SparkCatalog",
                f"spark.sql.catalog.{SPARK_JDBC}.type": "jdbc",
                f"spark.sql.catalog.{SPARK_JDBC}.uri": "jdbc:sqlite:" + self.spark_jdbc_db,
                f"spark.sql.catalog.{SPARK_JDBC}.warehouse": self.warehouse_uri,
                f"spark.sql.catalog.{SPARK_JDBC}.jdbc.schema-version": "V1",
                f"spark.sql.catalog.{SPARK_JDBC}.cache-enabled": "false",
            }
        )

    def t_v1_unpartitioned(self) -> None:
        t = f"{HADOOP}.db.v1_unpartitioned"
        self.sql(
            f"CREATE TABLE {t} (id bigint, name string, price decimal(10,2), created date) USING iceberg "
            "TBLPROPERTIES ('format-version'='1')"
        )
        self.sql(
            f"INSERT INTO {t} VALUES (1,'apple',1.20,DATE'2024-01-01'), (2,'banana',0.50,DATE'2024-01-02'), "
            "(3,'cherry',3.00,DATE'2024-01-03')"
        )
        self.sql(f"INSERT INTO {t} VALUES (4,'damson',2.75,DATE'2024-02-01'), (5,'elder',4.10,DATE'2024-02-02')")
        self.sql(f"DELETE FROM {t} WHERE id = 2")  # v1: copy-on-write
        self.sql(f"ALTER TABLE {t} ADD COLUMN note string")
        self.sql(f"INSERT INTO {t} VALUES (6,'fig',2.10,DATE'2024-03-01','added after ADD COLUMN')")
        self.sql(f"ALTER TABLE {t} RENAME COLUMN name TO label")
        self.sql(f"UPDATE {t} SET price = price + 1 WHERE id = 1")
        self.sql(f"ALTER TABLE {t} DROP COLUMN note")
        self.sql(f"INSERT OVERWRITE {t} SELECT * FROM {t} WHERE id <> 3")
        self.sql(f"INSERT INTO {t} VALUES (7,'grape',5.00,DATE'2024-04-01')")
        self.record(
            "v1_unpartitioned",
            HADOOP,
            "db.v1_unpartitioned",
            "spark",
            ["v1", "unpartitioned", "copy-on-write delete/update", "insert overwrite", "schema evolution: add, rename, drop"],
        )

    def t_v2_types(self) -> None:
        t = f"{HADOOP}.db.v2_types"
        self.sql(
            f"""CREATE TABLE {t} (id int, b boolean, l bigint, f float, d double, dec decimal(10,2),
            bigdec decimal(38,10), s string, bin binary, dt date, ts timestamp, tsn timestamp_ntz,
            st struct<a:int,b:string>, arr array<string>, m map<string,int>) USING iceberg
            TBLPROPERTIES ('format-version'='2', 'write.metadata.compression-codec'='gzip',
            'write.delete.mode'='merge-on-read')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES
            (1, true, 10000000000, 1.5, 2.25, 12.30, 12345678901234567890.0123456789, 'x', X'CAFE',
             DATE'2024-01-02', TIMESTAMP'2024-01-02 03:04:05.123456', TIMESTAMP_NTZ'2024-01-02 03:04:05',
             named_struct('a', 1, 'b', 'q'), array('a', 'b'), map('k', 1, 'j', 2)),
            (2, false, -9007199254740993, -0.25, 1e300, -0.01, 0.0000000001, 'ünïcødé "quoted"', X'',
             DATE'1970-01-01', TIMESTAMP'1999-12-31 23:59:59', TIMESTAMP_NTZ'2000-01-01 00:00:00',
             named_struct('a', null, 'b', ''), array(), map()),
            (3, null, null, null, null, null, null, null, null, null, null, null, null, null, null)"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES
            (4, true, 4, cast('NaN' as float), cast('Infinity' as double), 4.00, 4, 'four', X'00FF',
             DATE'2024-02-29', TIMESTAMP'2024-02-29 12:00:00', TIMESTAMP_NTZ'2024-02-29 12:00:00',
             named_struct('a', 4, 'b', 'four'), array(null, 'x'), map('z', null))"""
        )
        self.sql(f"DELETE FROM {t} WHERE id = 2")
        self.record(
            "v2_types",
            HADOOP,
            "db.v2_types",
            "spark",
            ["v2", "all primitive and nested types", "gzip metadata (vN.gz.metadata.json)", "position deletes"],
        )

    def t_v2_identity_mor(self) -> None:
        t = f"{HADOOP}.db.v2_identity_mor"
        ident = "db.v2_identity_mor"
        self.sql(
            f"""CREATE TABLE {t} (id bigint, region string, qty int, ts timestamp) USING iceberg
            PARTITIONED BY (region)
            TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read',
            'write.update.mode'='merge-on-read', 'write.merge.mode'='merge-on-read')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES (1,'eu',10,TIMESTAMP'2024-01-01 00:00:00'), (2,'eu',20,TIMESTAMP'2024-01-01 01:00:00'),
            (3,'us',30,TIMESTAMP'2024-01-02 00:00:00'), (4,'us',40,TIMESTAMP'2024-01-02 01:00:00'),
            (5,'ap',50,TIMESTAMP'2024-01-03 00:00:00'), (6,'ap',60,TIMESTAMP'2024-01-03 01:00:00')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES (7,'eu',70,TIMESTAMP'2024-02-01 00:00:00'), (8,'us',80,TIMESTAMP'2024-02-02 00:00:00'),
            (9,'ap',90,TIMESTAMP'2024-02-03 00:00:00'), (10,'sa',100,TIMESTAMP'2024-02-04 00:00:00')"""
        )
        self.sql(f"ALTER TABLE {t} CREATE TAG before_deletes")
        self.sql(f"DELETE FROM {t} WHERE id IN (2, 7)")
        self.sql(f"UPDATE {t} SET qty = qty * 10 WHERE region = 'us'")
        self.sql(
            f"""MERGE INTO {t} tgt USING (SELECT * FROM VALUES (5, 'ap', 555, TIMESTAMP'2024-03-01 00:00:00'),
            (11, 'eu', 110, TIMESTAMP'2024-03-02 00:00:00') AS s(id, region, qty, ts)) src
            ON tgt.id = src.id WHEN MATCHED THEN UPDATE SET qty = src.qty WHEN NOT MATCHED THEN INSERT *"""
        )
        self.sql(f"ALTER TABLE {t} CREATE BRANCH audit")
        self.sql(f"INSERT INTO {t}.branch_audit VALUES (12,'eu',120,TIMESTAMP'2024-04-01 00:00:00')")
        self.sql(f"DELETE FROM {t}.branch_audit WHERE id = 1")
        self.sql(f"CALL {HADOOP}.system.compute_table_stats(table => '{ident}')")
        self.sql(f"CALL {HADOOP}.system.compute_partition_stats(table => '{ident}')")
        self.record(
            "v2_identity_mor",
            HADOOP,
            ident,
            "spark",
            [
                "v2",
                "identity partition",
                "merge-on-read delete/update/merge (position delete files)",
                "tag before_deletes",
                "branch audit with its own commits",
                "table statistics (Puffin)",
                "partition statistics",
            ],
        )

    def t_v2_bucket_day_evolution(self) -> None:
        t = f"{HADOOP}.db.v2_bucket_day_evolution"
        self.sql(
            f"""CREATE TABLE {t} (id bigint, category string, ts timestamp, note string, extra int) USING iceberg
            PARTITIONED BY (bucket(4, id), days(ts))
            TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES (1,'a',TIMESTAMP'2024-05-01 10:00:00','n1',1), (2,'b',TIMESTAMP'2024-05-01 11:00:00','n2',2),
            (3,'a',TIMESTAMP'2024-05-02 10:00:00','n3',3), (4,'b',TIMESTAMP'2024-05-02 11:00:00','n4',4),
            (5,'a',TIMESTAMP'2024-05-03 10:00:00','n5',5), (6,'b',TIMESTAMP'2024-05-03 11:00:00','n6',6),
            (7,'c',TIMESTAMP'2024-05-04 10:00:00','n7',7), (8,'c',TIMESTAMP'2024-05-04 11:00:00','n8',8)"""
        )
        self.sql(f"ALTER TABLE {t} DROP PARTITION FIELD bucket(4, id)")
        self.sql(f"ALTER TABLE {t} ADD PARTITION FIELD category")
        self.sql(
            f"""INSERT INTO {t} VALUES (9,'a',TIMESTAMP'2024-06-01 10:00:00','n9',9), (10,'b',TIMESTAMP'2024-06-01 11:00:00','n10',10),
            (11,'c',TIMESTAMP'2024-06-02 10:00:00','n11',11), (12,'c',TIMESTAMP'2024-06-02 11:00:00','n12',12)"""
        )
        self.sql(f"ALTER TABLE {t} REPLACE PARTITION FIELD days(ts) WITH months(ts)")
        self.sql(f"ALTER TABLE {t} ADD COLUMN amount decimal(12,3)")
        self.sql(f"ALTER TABLE {t} RENAME COLUMN note TO comment")
        self.sql(f"ALTER TABLE {t} DROP COLUMN extra")
        self.sql(
            f"""INSERT INTO {t} VALUES (13,'a',TIMESTAMP'2024-07-01 10:00:00','n13',13.125),
            (14,'b',TIMESTAMP'2024-08-01 10:00:00','n14',14.250), (15,'d',TIMESTAMP'2024-09-01 10:00:00',null,null),
            (16,'d',TIMESTAMP'2024-09-02 10:00:00','n16',-16.500)"""
        )
        self.sql(f"DELETE FROM {t} WHERE id % 5 = 0")
        self.record(
            "v2_bucket_day_evolution",
            HADOOP,
            "db.v2_bucket_day_evolution",
            "spark",
            [
                "v2",
                "bucket + day partitions",
                "partition evolution (3 specs: bucket+day, day+identity, month+identity)",
                "schema evolution: add, rename, drop",
                "position deletes across partition specs",
            ],
        )

    def t_v3_deletion_vectors(self) -> None:
        t = f"{HADOOP}.db.v3_deletion_vectors"
        ident = "db.v3_deletion_vectors"
        self.sql(
            f"""CREATE TABLE {t} (id bigint, region string, val string) USING iceberg PARTITIONED BY (region)
            TBLPROPERTIES ('format-version'='3', 'write.delete.mode'='merge-on-read',
            'write.update.mode'='merge-on-read', 'write.merge.mode'='merge-on-read')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES (1,'eu','v1'), (2,'eu','v2'), (3,'eu','v3'), (4,'eu','v4'), (5,'us','v5'),
            (6,'us','v6'), (7,'us','v7'), (8,'ap','v8'), (9,'ap','v9'), (10,'ap','v10')"""
        )
        self.sql(f"DELETE FROM {t} WHERE id = 3")
        self.sql(f"DELETE FROM {t} WHERE id = 4")  # a second DV for the same data file replaces the first
        self.sql(f"UPDATE {t} SET val = 'updated' WHERE id IN (5, 8)")
        self.sql(f"ALTER TABLE {t} CREATE TAG after_deletes")
        self.sql(f"INSERT INTO {t} VALUES (11,'eu','v11'), (12,'sa','v12'), (13,'sa','v13')")
        self.sql(f"CALL {HADOOP}.system.compute_table_stats(table => '{ident}')")
        self.record(
            "v3_deletion_vectors",
            HADOOP,
            ident,
            "spark",
            ["v3", "identity partition", "deletion vectors (Puffin)", "DV replaced by a later delete", "row lineage",
             "tag after_deletes", "table statistics (Puffin)"],
        )

    def t_v3_variant(self) -> None:
        t = f"{HADOOP}.db.v3_variant"
        self.sql(f"CREATE TABLE {t} (id int, v variant) USING iceberg TBLPROPERTIES ('format-version'='3')")
        self.sql(
            f"""INSERT INTO {t} SELECT * FROM VALUES (1, parse_json('{{"a":1,"b":[true,null]}}')),
            (2, parse_json('"text"')), (3, parse_json('12.5')), (4, null) AS s(id, v)"""
        )
        self.record("v3_variant", HADOOP, "db.v3_variant", "spark", ["v3", "variant type"])

    def t_v2_expired(self) -> None:
        t = f"{HADOOP}.db.v2_expired"
        ident = "db.v2_expired"
        self.sql(f"CREATE TABLE {t} (id bigint, label string) USING iceberg TBLPROPERTIES ('format-version'='2')")
        for i in range(1, 6):
            self.sql(f"INSERT INTO {t} VALUES ({2 * i - 1}, 'batch{i}'), ({2 * i}, 'batch{i}')")
            if i == 1:
                self.sql(f"ALTER TABLE {t} CREATE TAG first_batch")
        self.sql(f"DELETE FROM {t} WHERE id = 4")  # copy-on-write (v2 default)
        older = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
        time.sleep(1.2)
        self.sql(
            f"CALL {HADOOP}.system.expire_snapshots(table => '{ident}', older_than => TIMESTAMP '{older}', "
            "retain_last => 2)"
        )
        self.record(
            "v2_expired",
            HADOOP,
            ident,
            "spark",
            ["v2", "expire_snapshots ran (retain_last 2, a tag keeps the first snapshot)", "copy-on-write delete"],
        )

    def t_v2_equality_deletes(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = f"{HADOOP}.db.v2_equality_deletes"
        self.sql(
            f"CREATE TABLE {t} (id bigint, name string, qty int) USING iceberg TBLPROPERTIES ('format-version'='2')"
        )
        self.sql(
            f"""INSERT INTO {t} VALUES (1,'alpha',1), (2,'beta',2), (3,'gamma',3), (4,'delta',4),
            (5,'epsilon',5), (6,'zeta',6)"""
        )
        jvm = self.spark._jvm
        gateway = self.spark.sparkContext._gateway

        def add_eq_deletes(cols: list[str], rows: list[tuple], file_name: str) -> None:
            jt = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(self.spark._jsparkSession, t)
            schema = jt.schema()
            arrow_types = {"long": pa.int64(), "int": pa.int32(), "string": pa.string()}
            fields, ids = [], []
            for c in cols:
                f = schema.findField(c)
                ids.append(f.fieldId())
                fields.append(
                    pa.field(
                        c,
                        arrow_types[f.type().toString()],
                        nullable=not f.isRequired(),
                        metadata={b"PARQUET:field_id": str(f.fieldId()).encode()},
                    )
                )
            arrow_schema = pa.schema(fields)
            table = pa.Table.from_pylist([dict(zip(cols, r)) for r in rows], schema=arrow_schema)
            data_dir = os.path.join(local_path(jt.location()), "data")
            os.makedirs(data_dir, exist_ok=True)
            path = os.path.join(data_dir, file_name)
            pq.write_table(table, path)
            jids = gateway.new_array(jvm.int, len(ids))
            for i, fid in enumerate(ids):
                jids[i] = fid
            delete_file = (
                jvm.org.apache.iceberg.FileMetadata.deleteFileBuilder(jt.spec())
                .ofEqualityDeletes(jids)
                .withPath("file:" + path)
                .withFormat(jvm.org.apache.iceberg.FileFormat.PARQUET)
                .withFileSizeInBytes(os.path.getsize(path))
                .withRecordCount(len(rows))
                .build()
            )
            jt.newRowDelta().addDeletes(delete_file).commit()
            env.log(f"  equality delete on {cols}: {len(rows)} rows ({file_name})")

        add_eq_deletes(["id"], [(2,), (5,)], "eq-delete-00001-id.parquet")
        # rows written after the delete (higher sequence number) are not deleted by it: id 2 comes back
        self.sql(f"INSERT INTO {t} VALUES (2,'beta-again',20), (7,'eta',7)")
        add_eq_deletes(["name"], [("zeta",)], "eq-delete-00002-name.parquet")
        self.record(
            "v2_equality_deletes",
            HADOOP,
            "db.v2_equality_deletes",
            "spark + Iceberg Java API (RowDelta via py4j; delete files written by pyarrow with field ids)",
            ["v2", "equality deletes (on id, then on name)", "re-inserted key after an equality delete"],
        )

    def t_v2_paths_apart(self) -> None:
        t = f"{SPARK_JDBC}.jdbc_db.v2_paths_apart"
        self.sql(f"CREATE NAMESPACE IF NOT EXISTS {SPARK_JDBC}.jdbc_db")
        data = f"{self.warehouse_uri}/elsewhere/v2_paths_apart-data"
        meta = f"{self.warehouse_uri}/elsewhere/v2_paths_apart-metadata"
        self.sql(
            f"""CREATE TABLE {t} (id bigint, ts timestamp, msg string) USING iceberg PARTITIONED BY (days(ts))
            TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read',
            'write.data.path'='{data}', 'write.metadata.path'='{meta}')"""
        )
        self.sql(
            f"""INSERT INTO {t} VALUES (1,TIMESTAMP'2024-01-01 00:00:00','one'), (2,TIMESTAMP'2024-01-01 12:00:00','two'),
            (3,TIMESTAMP'2024-01-02 00:00:00','three')"""
        )
        self.sql(f"INSERT INTO {t} VALUES (4,TIMESTAMP'2024-01-03 00:00:00','four'), (5,TIMESTAMP'2024-01-03 00:00:01','five')")
        self.sql(f"DELETE FROM {t} WHERE id = 2")
        self.record(
            "v2_paths_apart",
            SPARK_JDBC,
            "jdbc_db.v2_paths_apart",
            "spark",
            ["v2", "JDBC catalog (sqlite)", "write.data.path and write.metadata.path outside the table location",
             "day partition", "position deletes"],
        )

    # --- PyIceberg tables ------------------------------------------------------

    def pyiceberg_catalog(self):
        from pyiceberg.catalog.sql import SqlCatalog

        cat = SqlCatalog(PYICEBERG, uri="sqlite:///" + self.pyiceberg_db, warehouse=self.warehouse_uri)
        try:
            cat.create_namespace("pyi")
        except Exception:  # noqa: BLE001  (already exists)
            pass
        return cat

    def t_pyi_v2(self) -> None:
        import pyarrow as pa
        from pyiceberg.partitioning import PartitionField, PartitionSpec
        from pyiceberg.schema import Schema
        from pyiceberg.transforms import IdentityTransform
        from pyiceberg.types import IntegerType, LongType, NestedField, StringType, TimestamptzType

        cat = self.pyiceberg_catalog()
        schema = Schema(
            NestedField(1, "id", LongType(), required=False),
            NestedField(2, "region", StringType(), required=False),
            NestedField(3, "qty", IntegerType(), required=False),
            NestedField(4, "ts", TimestamptzType(), required=False),
        )
        spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="region"))
        tbl = cat.create_table("pyi.v2_pyiceberg", schema=schema, partition_spec=spec,
                               properties={"format-version": "2"})
        utc = timezone.utc

        def batch(rows, extra=None):
            cols = {
                "id": pa.array([r[0] for r in rows], pa.int64()),
                "region": pa.array([r[1] for r in rows], pa.string()),
                "qty": pa.array([r[2] for r in rows], pa.int32()),
                "ts": pa.array([datetime(2024, 1, r[3], tzinfo=utc) for r in rows], pa.timestamp("us", tz="UTC")),
            }
            if extra:
                cols.update(extra)
            return pa.table(cols)

        tbl.append(batch([(1, "eu", 10, 1), (2, "eu", 20, 2), (3, "us", 30, 3), (4, "ap", 40, 4)]))
        env.log("  pyiceberg append 1")
        tbl.append(batch([(5, "us", 50, 5), (6, "ap", 60, 6)]))
        env.log("  pyiceberg append 2")
        first = tbl.metadata.snapshots[0].snapshot_id
        tbl.manage_snapshots().create_tag(first, "first_append").create_branch(first, "dev").commit()
        tbl.overwrite(batch([(7, "us", 70, 7), (8, "us", 80, 8)]), overwrite_filter="region == 'us'")
        env.log("  pyiceberg overwrite region = us")
        tbl.delete("id == 2")
        env.log("  pyiceberg delete id == 2")
        with tbl.update_schema() as u:
            u.add_column("note", StringType())
            u.rename_column("qty", "quantity")
        tbl = cat.load_table("pyi.v2_pyiceberg")
        nb = pa.table(
            {
                "id": pa.array([9], pa.int64()),
                "region": pa.array(["eu"], pa.string()),
                "quantity": pa.array([90], pa.int32()),
                "ts": pa.array([datetime(2024, 1, 9, tzinfo=utc)], pa.timestamp("us", tz="UTC")),
                "note": pa.array(["after schema change"], pa.string()),
            }
        )
        tbl.append(nb)
        env.log("  pyiceberg append after schema evolution")
        try:
            tbl.append(batch([(100, "eu", 1000, 10)]).append_column("note", pa.array(["on dev"], pa.string()))
                       .rename_columns(["id", "region", "quantity", "ts", "note"]), branch="dev")
            env.log("  pyiceberg append to branch dev")
        except Exception as e:  # noqa: BLE001
            env.log(f"  pyiceberg append to branch failed (kept going): {e}")
        self.record(
            "v2_pyiceberg",
            PYICEBERG,
            "pyi.v2_pyiceberg",
            "pyiceberg",
            ["v2", "SQL catalog (sqlite, PyIceberg)", "identity partition", "overwrite with filter",
             "copy-on-write delete", "schema evolution: add, rename", "tag first_append", "branch dev"],
        )

    def t_pyi_v1(self) -> None:
        import pyarrow as pa
        from pyiceberg.partitioning import PartitionField, PartitionSpec
        from pyiceberg.schema import Schema
        from pyiceberg.transforms import DayTransform
        from pyiceberg.types import DoubleType, LongType, NestedField, TimestampType

        cat = self.pyiceberg_catalog()
        schema = Schema(
            NestedField(1, "id", LongType(), required=False),
            NestedField(2, "ts", TimestampType(), required=False),
            NestedField(3, "reading", DoubleType(), required=False),
        )
        spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=DayTransform(), name="ts_day"))
        tbl = cat.create_table("pyi.v1_pyiceberg", schema=schema, partition_spec=spec,
                               properties={"format-version": "1"})

        def batch(rows):
            return pa.table(
                {
                    "id": pa.array([r[0] for r in rows], pa.int64()),
                    "ts": pa.array([datetime(2024, 3, r[1], r[2]) for r in rows], pa.timestamp("us")),
                    "reading": pa.array([r[3] for r in rows], pa.float64()),
                }
            )

        tbl.append(batch([(1, 1, 0, 0.5), (2, 1, 12, 1.5), (3, 2, 0, 2.5)]))
        tbl.append(batch([(4, 3, 6, 3.25), (5, 3, 18, -4.0)]))
        self.record("v1_pyiceberg", PYICEBERG, "pyi.v1_pyiceberg", "pyiceberg",
                    ["v1", "SQL catalog (sqlite, PyIceberg)", "day partition (timestamp without zone)"])

    def t_pyi_v3(self) -> None:
        import pyarrow as pa
        from pyiceberg.schema import Schema
        from pyiceberg.types import LongType, NestedField, StringType

        cat = self.pyiceberg_catalog()
        schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "s", StringType(), required=False))
        tbl = cat.create_table("pyi.v3_pyiceberg", schema=schema, properties={"format-version": "3"})
        tbl.append(pa.table({"id": pa.array([1, 2], pa.int64()), "s": pa.array(["a", "b"])}))
        tbl.append(pa.table({"id": pa.array([3], pa.int64()), "s": pa.array(["c"])}))
        self.record("v3_pyiceberg", PYICEBERG, "pyi.v3_pyiceberg", "pyiceberg", ["v3", "SQL catalog (sqlite, PyIceberg)"])

    # --- driver ----------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        t_all = time.time()
        os.makedirs(self.out, exist_ok=True)
        for p in (self.warehouse, self.spark_jdbc_db, self.pyiceberg_db, os.path.join(self.out, "manifest.json")):
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
        os.makedirs(self.warehouse)
        # PyIceberg first: no JVM needed, and a Spark failure then still leaves these.
        self.attempt("v2_pyiceberg", self.t_pyi_v2)
        self.attempt("v1_pyiceberg", self.t_pyi_v1)
        self.attempt("v3_pyiceberg", self.t_pyi_v3)
        self.start_spark()
        self.attempt("v1_unpartitioned", self.t_v1_unpartitioned)
        self.attempt("v2_types", self.t_v2_types)
        self.attempt("v2_identity_mor", self.t_v2_identity_mor)
        self.attempt("v2_bucket_day_evolution", self.t_v2_bucket_day_evolution)
        self.attempt("v3_deletion_vectors", self.t_v3_deletion_vectors)
        self.attempt("v3_variant", self.t_v3_variant)
        self.attempt("v2_expired", self.t_v2_expired)
        self.attempt("v2_equality_deletes", self.t_v2_equality_deletes)
        self.attempt("v2_paths_apart", self.t_v2_paths_apart)
        # Hadoop's local file system leaves .crc side files; a replicated table would not have them.
        removed = 0
        for d, _dirs, files in os.walk(self.warehouse):
            for f in files:
                if f.startswith(".") and f.endswith(".crc"):
                    os.remove(os.path.join(d, f))
                    removed += 1
        env.log(f"removed {removed} Hadoop .crc side files")
        self.tables.sort(key=lambda x: x["name"])
        manifest = {
            "outDir": self.out,
            "warehouse": self.warehouse,
            "catalogs": {
                HADOOP: self.catalog_spec(HADOOP),
                SPARK_JDBC: self.catalog_spec(SPARK_JDBC),
                PYICEBERG: self.catalog_spec(PYICEBERG),
            },
            "versions": env.versions(),
            "seconds": round(time.time() - t_all, 1),
            "tables": self.tables,
            "skipped": self.skipped,
        }
        tmp = os.path.join(self.out, "manifest.json.tmp")
        with open(tmp, "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        os.replace(tmp, os.path.join(self.out, "manifest.json"))
        env.log(f"generated {len(self.tables)} tables ({len(self.skipped)} skipped) in {manifest['seconds']}s")
        return manifest


def run_generate(out_dir: str) -> dict[str, Any]:
    env.pin_utc()
    return Generator(out_dir).run()
