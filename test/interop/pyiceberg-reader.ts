/** A PyIceberg program for interop tests, run with the harness's Python. */

/**
 * Reads every snapshot of each table through PyIceberg's SqlCatalog: row count and a digest of the
 * sorted rows. Argument: JSON `[{properties, identifier?}]` (identifier default `sales.orders`).
 */
export const PYICEBERG_SNAPSHOT_READER = `
import hashlib, json, sys
from pyiceberg.catalog.sql import SqlCatalog
out = []
for t in json.loads(sys.argv[1]):
    tbl = SqlCatalog("dr", **t["properties"]).load_table(t.get("identifier", "sales.orders"))
    reads = {}
    for snap in tbl.metadata.snapshots:
        rows = sorted(json.dumps(r, sort_keys=True, default=str)
                      for r in tbl.scan(snapshot_id=snap.snapshot_id).to_arrow().to_pylist())
        reads[str(snap.snapshot_id)] = [len(rows), hashlib.sha256("\\n".join(rows).encode()).hexdigest()]
    out.append({"metadataLocation": tbl.metadata_location, "reads": reads})
print(json.dumps(out))
`;
