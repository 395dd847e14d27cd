/** The table add-files appends to, as its current metadata file says. */
import type { FormatVersion } from '../iceberg/metadata.ts';
import { decodeMetadata } from '../iceberg/metadata-json.ts';
import { validateTableMetadata } from '../iceberg/metadata-validate.ts';
import { defaultSpec, type PartitionSpec } from '../iceberg/partition.ts';
import { currentSchema, type Schema } from '../iceberg/schema.ts';
import type { StorageResolver } from '../storage/router.ts';
import type { JsonObject } from '../util/json.ts';

/** A table's current metadata, validated, with its current schema and default spec. */
export interface LoadedTableState {
  readonly location: string;
  readonly json: JsonObject;
  readonly formatVersion: FormatVersion;
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly properties: Record<string, string>;
}

/** The bytes of a file. */
export async function readText(resolve: StorageResolver, path: string): Promise<Uint8Array> {
  return resolve(path).read(path);
}

/** Reads and validates the metadata file at `location`. */
export async function loadTable(resolve: StorageResolver, location: string): Promise<LoadedTableState> {
  const doc = decodeMetadata(await readText(resolve, location), location);
  const json = doc.json;
  validateTableMetadata(json, location);
  return {
    location,
    json,
    formatVersion: doc.metadata.formatVersion,
    schema: currentSchema(json, location),
    spec: defaultSpec(json, location),
    properties: { ...doc.metadata.properties },
  };
}
