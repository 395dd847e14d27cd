/**
 * Field-level rewrites: which fields of each Iceberg file hold paths, and how they change.
 * Pure functions over decoded records and metadata JSON; no storage here.
 */
import type { AvroRecordValue } from '../iceberg/manifest-views.ts';
import { PATH_PROPERTIES } from '../iceberg/metadata.ts';
import type { PathMapper } from '../table/path-mapping.ts';
import { isJsonObject, JsonDecimal, type JsonObject, type JsonValue } from '../util/json.ts';

/** Field id of `file_path` in position-delete files; its bounds in manifests are paths too. */
export const DELETE_FILE_PATH_FIELD_ID = 2147483546;

/** A decoded Avro record. */

/** Deep copy of exact JSON. */
export function cloneJson<T extends JsonValue>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => cloneJson(x)) as T;
  if (v instanceof JsonDecimal) return new JsonDecimal(v.text) as T;
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
    return out as T;
  }
  return v;
}

/** How the metadata.json rewrite finds the new names of files it references. */
export interface MetadataRewriteContext {
  readonly mapper: PathMapper;
  /** The replicated metadata file being rewritten (for error messages). */
  readonly file: string;
  /** Rewritten manifest list for a source manifest-list path. */
  manifestListOutput(source: string): string;
  /** Rewritten manifest for a source manifest path (v1 inline `manifests`). */
  manifestOutput(source: string): string;
  /** Rewritten metadata file for a mapped older metadata file, if this tool made one. */
  metadataOutput(mappedSource: string): string | undefined;
  /** Leave the path-valued table properties as they are. */
  readonly keepPathProperties?: boolean;
}

/**
 * Rewrites every path-bearing field of table metadata; everything else stays as it was.
 * Returns a new object; the input is not modified.
 */
export function rewriteMetadataJson(source: JsonObject, ctx: MetadataRewriteContext): JsonObject {
  const json = cloneJson(source);
  const map = (p: string, field: string) => ctx.mapper.map(p, { file: ctx.file, field });
  if (typeof json.location === 'string') json.location = map(json.location, 'location');
  if (Array.isArray(json['metadata-log'])) {
    for (const e of json['metadata-log']) {
      if (isJsonObject(e) && typeof e['metadata-file'] === 'string') {
        const mapped = map(e['metadata-file'], 'metadata-log.metadata-file');
        e['metadata-file'] = ctx.metadataOutput(mapped) ?? mapped;
      }
    }
  }
  if (Array.isArray(json.snapshots)) {
    for (const s of json.snapshots) {
      if (!isJsonObject(s)) continue;
      if (typeof s['manifest-list'] === 'string')
        s['manifest-list'] = ctx.manifestListOutput(s['manifest-list']);
      if (Array.isArray(s.manifests)) {
        s.manifests = s.manifests.map((m) => (typeof m === 'string' ? ctx.manifestOutput(m) : m));
      }
    }
  }
  for (const key of ['statistics', 'partition-statistics']) {
    const list = json[key];
    if (!Array.isArray(list)) continue;
    for (const e of list) {
      if (isJsonObject(e) && typeof e['statistics-path'] === 'string') {
        e['statistics-path'] = map(e['statistics-path'], `${key}.statistics-path`);
      }
    }
  }
  if (!ctx.keepPathProperties && isJsonObject(json.properties)) {
    for (const key of PATH_PROPERTIES) {
      const v = json.properties[key];
      if (typeof v === 'string') json.properties[key] = map(v, `properties.${key}`);
    }
  }
  return json;
}

/** A path held by a field of metadata.json, and the field's JSON path (`snapshots[2].manifest-list`). */
export interface MetadataPathField {
  readonly path: string;
  readonly field: string;
}

/**
 * Every path-bearing field of metadata.json that {@link rewriteMetadataJson} maps or replaces:
 * `location`, `metadata-log`, `manifest-list`, v1 `manifests`, statistics and
 * partition-statistics paths, and the path-valued `write.*` properties (unless kept).
 */
export function metadataPaths(
  json: JsonObject,
  options: { keepPathProperties?: boolean } = {},
): MetadataPathField[] {
  const out: MetadataPathField[] = [];
  const add = (v: JsonValue | undefined, field: string) => {
    if (typeof v === 'string') out.push({ path: v, field });
  };
  add(json.location, 'location');
  const each = (key: string, fn: (e: JsonObject, at: string) => void) => {
    const list = json[key];
    if (!Array.isArray(list)) return;
    for (const [i, e] of list.entries()) if (isJsonObject(e)) fn(e, `${key}[${i}]`);
  };
  each('metadata-log', (e, at) => add(e['metadata-file'], `${at}.metadata-file`));
  each('snapshots', (s, at) => {
    add(s['manifest-list'], `${at}.manifest-list`);
    if (Array.isArray(s.manifests))
      for (const [j, m] of s.manifests.entries()) add(m, `${at}.manifests[${j}]`);
  });
  each('statistics', (e, at) => add(e['statistics-path'], `${at}.statistics-path`));
  each('partition-statistics', (e, at) => add(e['statistics-path'], `${at}.statistics-path`));
  if (!options.keepPathProperties && isJsonObject(json.properties)) {
    for (const key of PATH_PROPERTIES) add(json.properties[key], `properties.${key}`);
  }
  return out;
}

/** Reads a bounds map (`lower_bounds` / `upper_bounds`) in either decoded form. */
function boundsEntries(v: unknown): { key: number; set: (b: Uint8Array) => void; value: Uint8Array }[] {
  if (v instanceof Map) {
    return [...v.entries()].map(([key, value]) => ({
      key: Number(key),
      value: value as Uint8Array,
      set: (b) => v.set(key, b),
    }));
  }
  if (Array.isArray(v)) {
    return v.map((e: { key: number | bigint; value: Uint8Array }) => ({
      key: Number(e.key),
      value: e.value,
      set: (b) => {
        e.value = b;
      },
    }));
  }
  return [];
}

/** Replaces the bounds of the position-delete `file_path` column, where present. */
export function setDeletePathBounds(dataFile: AvroRecordValue, min?: string, max?: string): void {
  const enc = new TextEncoder();
  for (const [field, value] of [
    ['lower_bounds', min],
    ['upper_bounds', max],
  ] as const) {
    if (value === undefined) continue;
    for (const e of boundsEntries(dataFile[field])) {
      if (e.key === DELETE_FILE_PATH_FIELD_ID) e.set(enc.encode(value));
    }
  }
}

/** Maps the bounds of the position-delete `file_path` column in place (when no file was rewritten). */
export function mapDeletePathBounds(dataFile: AvroRecordValue, mapPath: (p: string) => string): void {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  for (const field of ['lower_bounds', 'upper_bounds']) {
    for (const e of boundsEntries(dataFile[field])) {
      if (e.key === DELETE_FILE_PATH_FIELD_ID) e.set(enc.encode(mapPath(dec.decode(e.value))));
    }
  }
}
