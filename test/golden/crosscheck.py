"""Cross-checks the golden corpus against independent readers: PyIceberg and pyarrow.

Each golden file is read by a peer and compared with its `<name>.expected.json` (the values
the corpus was built from). Run it from the repository root, in the interop harness venv that
scripts/setup-harness.sh creates (it has pyiceberg and pyarrow):

    .tools/py/bin/python test/golden/crosscheck.py

It prints one line per check and exits non-zero on the first disagreement.
"""

import json
import os
import sys

import pyarrow.parquet as pq
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.manifest import ManifestContent, ManifestFile, read_manifest_list
from pyiceberg.table.deletion_vector import deletion_vectors_from_puffin_file
from pyiceberg.table.metadata import TableMetadataUtil
from pyiceberg.table.puffin import PuffinFile

HERE = os.path.dirname(os.path.abspath(__file__))
IO = PyArrowFileIO()


def path(name):
    return os.path.join(HERE, name)


def expected(name):
    # Integers are read as Python ints: exact, as the expected files write them.
    with open(path(name + ".expected.json"), encoding="utf-8") as f:
        return json.load(f)


def hexbytes(b):
    return None if b is None else {"$bytes": bytes(b).hex()}


def check(what, actual, want):
    if actual != want:
        print(f"FAIL {what}\n  peer:     {actual!r}\n  expected: {want!r}")
        sys.exit(1)
    print(f"ok   {what}")


def metadata():
    name = "v2.metadata.json"
    want = expected(name)["view"]
    with open(path(name), encoding="utf-8") as f:
        md = TableMetadataUtil.parse_raw(f.read())
    check("metadata: format-version", md.format_version, want["formatVersion"])
    check("metadata: table-uuid", str(md.table_uuid), want["tableUuid"])
    check("metadata: location", md.location, want["location"])
    check("metadata: last-sequence-number", md.last_sequence_number, want["lastSequenceNumber"])
    check("metadata: last-updated-ms", md.last_updated_ms, want["lastUpdatedMs"])
    check("metadata: current-snapshot-id", md.current_snapshot_id, want["currentSnapshotId"])
    check(
        "metadata: snapshots",
        [
            {
                "snapshotId": s.snapshot_id,
                "sequenceNumber": s.sequence_number,
                "timestampMs": s.timestamp_ms,
                "manifestList": s.manifest_list,
                "parentSnapshotId": s.parent_snapshot_id,
            }
            for s in md.snapshots
        ],
        [
            {
                "snapshotId": s["snapshotId"],
                "sequenceNumber": s["sequenceNumber"],
                "timestampMs": s["timestampMs"],
                "manifestList": s["manifestList"],
                "parentSnapshotId": s.get("parentSnapshotId"),
            }
            for s in want["snapshots"]
        ],
    )
    check(
        "metadata: refs",
        {k: {"snapshotId": r.snapshot_id, "type": str(r.snapshot_ref_type)} for k, r in md.refs.items()},
        want["refs"],
    )
    check(
        "metadata: metadata-log",
        [{"timestampMs": e.timestamp_ms, "metadataFile": e.metadata_file} for e in md.metadata_log],
        want["metadataLog"],
    )
    check(
        "metadata: statistics",
        [
            {"snapshotId": s.snapshot_id, "statisticsPath": s.statistics_path, "fileSizeInBytes": s.file_size_in_bytes}
            for s in md.statistics
        ],
        want["statistics"],
    )
    check("metadata: properties", dict(md.properties), want["properties"])


def manifest_file_json(m):
    return {
        "manifest_path": m.manifest_path,
        "manifest_length": m.manifest_length,
        "partition_spec_id": m.partition_spec_id,
        "content": int(m.content),
        "sequence_number": m.sequence_number,
        "min_sequence_number": m.min_sequence_number,
        "added_snapshot_id": m.added_snapshot_id,
        "added_files_count": m.added_files_count,
        "existing_files_count": m.existing_files_count,
        "deleted_files_count": m.deleted_files_count,
        "added_rows_count": m.added_rows_count,
        "existing_rows_count": m.existing_rows_count,
        "deleted_rows_count": m.deleted_rows_count,
        "partitions": [
            {
                "contains_null": p.contains_null,
                "contains_nan": p.contains_nan,
                "lower_bound": hexbytes(p.lower_bound),
                "upper_bound": hexbytes(p.upper_bound),
            }
            for p in (m.partitions or [])
        ],
        "key_metadata": hexbytes(m.key_metadata),
    }


def manifest_list():
    name = "snap-manifest-list.avro"
    want = expected(name)
    got = [manifest_file_json(m) for m in read_manifest_list(IO.new_input(path(name)))]
    check("manifest list: records", got, want["records"])


def int_map(m):
    return None if m is None else [{"key": k, "value": v} for k, v in m.items()]


def bytes_map(m):
    return None if m is None else [{"key": k, "value": hexbytes(v)} for k, v in m.items()]


def manifest():
    name = "manifest.avro"
    want = expected(name)
    listed = expected("snap-manifest-list.avro")["records"][0]
    mf = ManifestFile.from_args(
        _table_format_version=2,
        manifest_path=path(name),
        manifest_length=listed["manifest_length"],
        partition_spec_id=0,
        content=ManifestContent.DATA,
        sequence_number=listed["sequence_number"],
        min_sequence_number=listed["min_sequence_number"],
        added_snapshot_id=listed["added_snapshot_id"],
    )
    entries = mf.fetch_manifest_entry(IO, discard_deleted=False)
    got = []
    for e in entries:
        d = e.data_file
        got.append(
            {
                "status": int(e.status),
                "snapshot_id": e.snapshot_id,
                "sequence_number": e.sequence_number,
                "file_sequence_number": e.file_sequence_number,
                "data_file": {
                    "content": int(d.content),
                    "file_path": d.file_path,
                    "file_format": str(d.file_format.value),
                    "partition": {"dt": d.partition[0]},
                    "record_count": d.record_count,
                    "file_size_in_bytes": d.file_size_in_bytes,
                    "column_sizes": int_map(d.column_sizes),
                    "value_counts": int_map(d.value_counts),
                    "null_value_counts": int_map(d.null_value_counts),
                    "nan_value_counts": int_map(d.nan_value_counts),
                    "lower_bounds": bytes_map(d.lower_bounds),
                    "upper_bounds": bytes_map(d.upper_bounds),
                    "key_metadata": hexbytes(d.key_metadata),
                    "split_offsets": d.split_offsets,
                    "equality_ids": d.equality_ids,
                    "sort_order_id": d.sort_order_id,
                    "referenced_data_file": getattr(d, "referenced_data_file", None),
                },
            }
        )
    # PyIceberg reads empty int maps back as {} where the file holds null: compare them as null.
    for g in got:
        for k, v in g["data_file"].items():
            if v == []:
                g["data_file"][k] = None
    check("manifest: entries", got, want["records"])


def position_deletes():
    name = "position-deletes.parquet"
    want = expected(name)
    f = pq.ParquetFile(path(name))
    check("position deletes: row count", f.metadata.num_rows, want["rowCount"])
    fields = [
        {
            "name": field.name,
            "type": "BYTE_ARRAY" if str(field.type) in ("string", "large_string") else "INT64",
            "fieldId": int(field.metadata[b"PARQUET:field_id"]),
        }
        for field in f.schema_arrow
    ]
    check("position deletes: columns and field ids", fields, want["columns"])
    check("position deletes: rows", f.read().to_pylist(), want["rows"])


def puffin():
    name = "deletion-vector.puffin"
    want = expected(name)
    with open(path(name), "rb") as fh:
        pf = PuffinFile(fh.read())
    blobs = [
        {
            "type": b.type,
            "fields": b.fields,
            "snapshotId": b.snapshot_id,
            "sequenceNumber": b.sequence_number,
            "offset": b.offset,
            "length": b.length,
            "properties": b.properties,
        }
        for b in pf.footer.blobs
    ]
    check("puffin: blobs", blobs, want["blobs"])
    check("puffin: properties", pf.footer.properties, want["properties"])
    dvs = deletion_vectors_from_puffin_file(pf)
    check(
        "puffin: deletion vector positions",
        {dv.referenced_data_file: dv.to_vector().to_pylist() for dv in dvs},
        {want["blobs"][0]["properties"]["referenced-data-file"]: want["deletedPositions"]},
    )


if __name__ == "__main__":
    metadata()
    manifest_list()
    manifest()
    position_deletes()
    puffin()
    print("all golden files agree with PyIceberg and pyarrow")
