/**
 * Validation of table metadata against the rules Iceberg readers enforce when they load it.
 *
 * The rules are those of Apache Iceberg's Java `TableMetadataParser` and `TableMetadata`
 * (required fields per format version, ids that must resolve, `main` against
 * `current-snapshot-id`, sequence numbers against `last-sequence-number`, ordered logs,
 * duplicate ids and names) and of PyIceberg's model validators (`default-spec-id` and
 * `default-sort-order-id` must resolve), plus parent chains without cycles (a loop hangs every
 * walk of the history). Metadata that passes loads in both; metadata that fails is refused
 * before anything is committed.
 *
 * What Iceberg itself accepts on load is accepted here too, because real tables carry it: a
 * parent snapshot, snapshot-log entry or statistics file naming an expired snapshot; a snapshot
 * without a sequence number (0, as in tables upgraded from v1); a v3 snapshot without row
 * lineage (written before the upgrade); `last-column-id`, `last-partition-id` or `next-row-id`
 * below the ids in use (Iceberg checks these counters only when it adds a schema, spec or
 * snapshot, and Hive-written v1 tables record `last-column-id` 1 for nested schemas).
 *
 * Pure: JSON in, problems out; no storage.
 */
import { CorruptFileError } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.ts';

/** One rule the metadata breaks: where (a JSON path such as `refs.main.snapshot-id`) and what. */
export interface MetadataProblem {
  readonly field: string;
  readonly detail: string;
}

/** Table metadata that Iceberg readers would refuse to load. Exit code 4, like any corrupt file. */
export class InvalidMetadataError extends CorruptFileError {
  /** JSON path of the first offending field. */
  readonly field: string;
  /** Every problem found (the message names the first). */
  readonly problems: readonly MetadataProblem[];
  constructor(file: string, problems: readonly MetadataProblem[]) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : '';
    super(file, `invalid table metadata: ${first.field}: ${first.detail}${more}`);
    this.field = first.field;
    this.problems = problems;
  }
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Clock skew Iceberg tolerates between log entries written from different machines. */
const ONE_MINUTE = 60_000n;

/** Collects problems while walking the JSON. */
class Checker {
  readonly problems: MetadataProblem[] = [];

  add(field: string, detail: string): void {
    this.problems.push({ field, detail });
  }

  /** An integer in Java's `int` range, or `undefined` (with a problem unless optional and absent). */
  int(obj: JsonObject, key: string, path: string, required: boolean): bigint | undefined {
    return this.#number(obj, key, path, required, INT_MIN, INT_MAX, 'a 32-bit integer');
  }

  /** An integer in Java's `long` range. */
  long(obj: JsonObject, key: string, path: string, required: boolean): bigint | undefined {
    return this.#number(obj, key, path, required, LONG_MIN, LONG_MAX, 'a 64-bit integer');
  }

  #number(
    obj: JsonObject,
    key: string,
    path: string,
    required: boolean,
    min: bigint,
    max: bigint,
    what: string,
  ): bigint | undefined {
    const v = obj[key];
    const at = join(path, key);
    if (v === undefined || v === null) {
      if (required) this.add(at, 'required field is missing');
      return undefined;
    }
    if (typeof v !== 'bigint' || v < min || v > max) {
      this.add(at, `must be ${what}, not ${show(v)}`);
      return undefined;
    }
    return v;
  }

  string(obj: JsonObject, key: string, path: string, required: boolean): string | undefined {
    const v = obj[key];
    const at = join(path, key);
    if (v === undefined || v === null) {
      if (required) this.add(at, 'required field is missing');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(at, `must be a string, not ${show(v)}`);
      return undefined;
    }
    return v;
  }

  /** The objects of an array field (`undefined` when absent, with a problem when required). */
  objects(obj: JsonObject, key: string, path: string, required: boolean): [JsonObject, string][] | undefined {
    const v = obj[key];
    const at = join(path, key);
    if (v === undefined || v === null) {
      if (required) this.add(at, 'required field is missing');
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.add(at, `must be an array, not ${show(v)}`);
      return undefined;
    }
    const out: [JsonObject, string][] = [];
    v.forEach((x, i) => {
      if (isJsonObject(x)) out.push([x, `${at}[${i}]`]);
      else this.add(`${at}[${i}]`, `must be an object, not ${show(x)}`);
    });
    return out;
  }

  /** A string-to-string map (Iceberg refuses other value types). */
  stringMap(obj: JsonObject, key: string, path: string): void {
    const v = obj[key];
    const at = join(path, key);
    if (v === undefined) return;
    if (!isJsonObject(v)) {
      this.add(at, `must be an object, not ${show(v)}`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') this.add(join(at, k), `must be a string, not ${show(x)}`);
    }
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function show(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'an array';
  if (isJsonObject(v)) return 'an object';
  return String(v);
}

/** Field ids of a schema type, walked through structs, lists and maps. */
function collectFieldIds(c: Checker, type: JsonValue | undefined, path: string, out: bigint[]): void {
  if (typeof type === 'string' || !isJsonObject(type)) return;
  if (type.type === 'struct') {
    const names = new Set<string>();
    for (const [f, at] of c.objects(type, 'fields', path, true) ?? []) {
      const id = c.int(f, 'id', at, true);
      if (id !== undefined) out.push(id);
      const name = c.string(f, 'name', at, true);
      if (name !== undefined && names.has(name))
        c.add(join(at, 'name'), `field name "${name}" is used twice`);
      if (name !== undefined) names.add(name);
      if (f.type === undefined || f.type === null) c.add(join(at, 'type'), 'required field is missing');
      collectFieldIds(c, f.type, join(at, 'type'), out);
    }
  } else if (type.type === 'list') {
    const id = c.int(type, 'element-id', path, true);
    if (id !== undefined) out.push(id);
    collectFieldIds(c, type.element, join(path, 'element'), out);
  } else if (type.type === 'map') {
    for (const k of ['key-id', 'value-id']) {
      const id = c.int(type, k, path, true);
      if (id !== undefined) out.push(id);
    }
    collectFieldIds(c, type.key, join(path, 'key'), out);
    collectFieldIds(c, type.value, join(path, 'value'), out);
  }
}

interface SchemaInfo {
  readonly id: bigint;
  readonly fieldIds: ReadonlySet<bigint>;
}

function checkSchema(c: Checker, s: JsonObject, at: string): SchemaInfo {
  const id = c.int(s, 'schema-id', at, false) ?? 0n;
  if (s.type !== undefined && s.type !== 'struct')
    c.add(join(at, 'type'), `must be "struct", not ${show(s.type)}`);
  const ids: bigint[] = [];
  collectFieldIds(c, { ...s, type: 'struct' }, at, ids);
  const seen = new Set<bigint>();
  for (const fid of ids) {
    if (seen.has(fid)) c.add(at, `field id ${fid} is used twice`);
    seen.add(fid);
  }
  return { id, fieldIds: seen };
}

interface SpecInfo {
  readonly id: bigint;
  readonly sourceIds: readonly [bigint, string][];
}

/** Fields of a partition spec (`fields` of a v2 spec, or the v1 `partition-spec` array). */
function checkSpecFields(c: Checker, fields: [JsonObject, string][], v1: boolean): Omit<SpecInfo, 'id'> {
  const sourceIds: [bigint, string][] = [];
  for (const [f, at] of fields) {
    c.string(f, 'name', at, true);
    c.string(f, 'transform', at, true);
    if (Array.isArray(f['source-ids'])) {
      f['source-ids'].forEach((x, i) => {
        if (typeof x === 'bigint') sourceIds.push([x, `${at}.source-ids[${i}]`]);
        else c.add(`${at}.source-ids[${i}]`, `must be an integer, not ${show(x)}`);
      });
    } else {
      const src = c.int(f, 'source-id', at, true);
      if (src !== undefined) sourceIds.push([src, join(at, 'source-id')]);
    }
    // v1 specs may leave field ids out (readers assign them from 1000 on).
    c.int(f, 'field-id', at, !v1);
  }
  return { sourceIds };
}

function checkLog(
  c: Checker,
  entries: [JsonObject, string][] | undefined,
  key: 'snapshot-id' | 'metadata-file',
  lastUpdated: bigint | undefined,
  path: string,
): void {
  let previous: bigint | undefined;
  for (const [e, at] of entries ?? []) {
    const ts = c.long(e, 'timestamp-ms', at, true);
    if (key === 'snapshot-id') c.long(e, key, at, true);
    else c.string(e, key, at, true);
    if (ts === undefined) continue;
    if (previous !== undefined && ts - previous < -ONE_MINUTE) {
      c.add(
        join(at, 'timestamp-ms'),
        `${ts} is earlier than the entry before it (${previous}): ${path} must be in time order`,
      );
    }
    previous = ts;
  }
  if (previous !== undefined && lastUpdated !== undefined && lastUpdated - previous < -ONE_MINUTE) {
    c.add('last-updated-ms', `${lastUpdated} is earlier than the last ${path} entry (${previous})`);
  }
}

/**
 * Every rule the metadata breaks, in document order (empty when it is valid). Stops early only
 * where a broken `format-version` makes the other rules meaningless.
 */
export function findMetadataProblems(json: JsonObject): MetadataProblem[] {
  const c = new Checker();
  const fv = c.int(json, 'format-version', '', true);
  if (fv === undefined) return c.problems;
  if (fv < 1n || fv > 3n) {
    c.add('format-version', `unsupported format version ${fv} (supported: 1, 2, 3)`);
    return c.problems;
  }
  const v1 = fv === 1n;
  const uuid = c.string(json, 'table-uuid', '', !v1);
  if (uuid === '') c.add('table-uuid', 'must not be empty');
  c.string(json, 'location', '', true);
  const lastSeq = v1 ? 0n : c.long(json, 'last-sequence-number', '', true);
  if (lastSeq !== undefined && lastSeq < 0n)
    c.add('last-sequence-number', `must not be negative, not ${lastSeq}`);
  const lastUpdated = c.long(json, 'last-updated-ms', '', true);
  c.int(json, 'last-column-id', '', true);

  // Schemas: the list (required from v2) or the v1 single schema.
  const schemas: SchemaInfo[] = [];
  let currentSchema: SchemaInfo | undefined;
  const schemaList = c.objects(json, 'schemas', '', !v1 || json.schema === undefined);
  if (schemaList) {
    const currentId = c.int(json, 'current-schema-id', '', true);
    for (const [s, at] of schemaList) {
      const info = checkSchema(c, s, at);
      if (schemas.some((x) => x.id === info.id))
        c.add(join(at, 'schema-id'), `schema id ${info.id} is used twice`);
      schemas.push(info);
    }
    if (currentId !== undefined) {
      currentSchema = schemas.find((s) => s.id === currentId);
      if (!currentSchema) c.add('current-schema-id', `no schema in schemas has id ${currentId}`);
    }
  } else if (isJsonObject(json.schema)) {
    currentSchema = checkSchema(c, json.schema, 'schema');
    schemas.push(currentSchema);
  } else if (json.schema !== undefined) {
    c.add('schema', `must be an object, not ${show(json.schema)}`);
  }

  // Partition specs: the list (required from v2) or the v1 single spec.
  const specs: SpecInfo[] = [];
  let defaultSpec: SpecInfo | undefined;
  const specList = c.objects(json, 'partition-specs', '', !v1 || json['partition-spec'] === undefined);
  if (specList) {
    const defaultId = c.int(json, 'default-spec-id', '', true);
    for (const [s, at] of specList) {
      const id = c.int(s, 'spec-id', at, true);
      const fields = checkSpecFields(c, c.objects(s, 'fields', at, true) ?? [], v1);
      if (id === undefined) continue;
      if (specs.some((x) => x.id === id)) c.add(join(at, 'spec-id'), `partition spec id ${id} is used twice`);
      specs.push({ id, ...fields });
    }
    if (defaultId !== undefined) {
      defaultSpec = specs.find((s) => s.id === defaultId);
      if (!defaultSpec) c.add('default-spec-id', `no spec in partition-specs has id ${defaultId}`);
    }
  } else if (json['partition-spec'] !== undefined) {
    defaultSpec = { id: 0n, ...checkSpecFields(c, c.objects(json, 'partition-spec', '', true) ?? [], true) };
    specs.push(defaultSpec);
  }
  if (defaultSpec && currentSchema) {
    for (const [src, at] of defaultSpec.sourceIds) {
      if (!currentSchema.fieldIds.has(src)) c.add(at, `source field ${src} is not in the current schema`);
    }
  }
  c.int(json, 'last-partition-id', '', !v1);

  // Sort orders (required from v2).
  const orders = c.objects(json, 'sort-orders', '', !v1);
  if (orders) {
    const defaultId = c.int(json, 'default-sort-order-id', '', true);
    const ids: bigint[] = [];
    for (const [o, at] of orders) {
      const id = c.int(o, 'order-id', at, true);
      if (id === undefined) continue;
      if (ids.includes(id)) c.add(join(at, 'order-id'), `sort order id ${id} is used twice`);
      ids.push(id);
      c.objects(o, 'fields', at, true);
    }
    // 0 is the unsorted order, which readers supply when it is not listed.
    if (defaultId !== undefined && defaultId !== 0n && !ids.includes(defaultId))
      c.add('default-sort-order-id', `no order in sort-orders has id ${defaultId}`);
  }

  c.stringMap(json, 'properties', '');

  // Snapshots.
  const snapshots = new Map<bigint, { parent: bigint | undefined; at: string }>();
  if (fv >= 3n) c.long(json, 'next-row-id', '', true);
  for (const [s, at] of c.objects(json, 'snapshots', '', false) ?? []) {
    const id = c.long(s, 'snapshot-id', at, true);
    const parent = c.long(s, 'parent-snapshot-id', at, false);
    c.long(s, 'timestamp-ms', at, true);
    const seq = c.long(s, 'sequence-number', at, false);
    if (seq !== undefined && lastSeq !== undefined && seq > lastSeq) {
      c.add(
        join(at, 'sequence-number'),
        v1
          ? `${seq}: format v1 has no sequence numbers (readers take last-sequence-number as 0)`
          : `${seq} is above last-sequence-number ${lastSeq}`,
      );
    }
    if (s['manifest-list'] !== undefined) c.string(s, 'manifest-list', at, true);
    else if (!Array.isArray(s.manifests) || s.manifests.some((m) => typeof m !== 'string'))
      c.add(
        join(at, 'manifest-list'),
        'required field is missing (and there is no manifests list of strings)',
      );
    if (s.summary !== undefined) c.stringMap(s, 'summary', at);
    c.int(s, 'schema-id', at, false);
    const firstRowId = c.long(s, 'first-row-id', at, false);
    const addedRows = c.long(s, 'added-rows', at, false);
    if (firstRowId !== undefined && firstRowId < 0n)
      c.add(join(at, 'first-row-id'), `must not be negative, not ${firstRowId}`);
    if (addedRows !== undefined && addedRows < 0n)
      c.add(join(at, 'added-rows'), `must not be negative, not ${addedRows}`);
    if (firstRowId !== undefined && addedRows === undefined)
      c.add(join(at, 'added-rows'), 'required when first-row-id is set');
    if (id === undefined) continue;
    if (snapshots.has(id)) c.add(join(at, 'snapshot-id'), `snapshot id ${id} is used twice`);
    else snapshots.set(id, { parent, at });
  }
  // A parent chain that loops would make every walk of the history run forever.
  const cleared = new Set<bigint>();
  for (const [id, s] of snapshots) {
    const path = new Set<bigint>();
    let cur: bigint | undefined = id;
    while (cur !== undefined && !cleared.has(cur) && snapshots.has(cur)) {
      if (path.has(cur)) {
        c.add(
          join(s.at, 'parent-snapshot-id'),
          `the parent chain of snapshot ${id} loops back to snapshot ${cur}`,
        );
        break;
      }
      path.add(cur);
      cur = snapshots.get(cur)!.parent;
    }
    for (const p of path) cleared.add(p);
  }

  // The current snapshot and the refs.
  const current = c.long(json, 'current-snapshot-id', '', false) ?? -1n;
  if (current >= 0n && !snapshots.has(current))
    c.add('current-snapshot-id', `snapshot ${current} is not in snapshots`);
  const refs = json.refs;
  if (refs !== undefined) {
    if (!isJsonObject(refs)) c.add('refs', `must be an object, not ${show(refs)}`);
    else {
      for (const [name, r] of Object.entries(refs)) {
        const at = join('refs', name);
        if (!isJsonObject(r)) {
          c.add(at, `must be an object, not ${show(r)}`);
          continue;
        }
        const sid = c.long(r, 'snapshot-id', at, true);
        if (sid !== undefined && !snapshots.has(sid))
          c.add(join(at, 'snapshot-id'), `snapshot ${sid} is not in snapshots`);
        const type = c.string(r, 'type', at, true)?.toLowerCase();
        if (type !== undefined && type !== 'branch' && type !== 'tag')
          c.add(join(at, 'type'), `must be "branch" or "tag", not ${show(r.type)}`);
        for (const key of ['min-snapshots-to-keep', 'max-snapshot-age-ms', 'max-ref-age-ms']) {
          const v = key === 'min-snapshots-to-keep' ? c.int(r, key, at, false) : c.long(r, key, at, false);
          if (v === undefined) continue;
          if (v <= 0n) c.add(join(at, key), `must be greater than 0, not ${v}`);
          if (type === 'tag' && key !== 'max-ref-age-ms')
            c.add(join(at, key), 'tags do not take this setting');
        }
      }
      const main = refs.main;
      const mainId =
        isJsonObject(main) && typeof main['snapshot-id'] === 'bigint' ? main['snapshot-id'] : undefined;
      if (current !== -1n && mainId !== undefined && mainId !== current) {
        c.add('refs.main.snapshot-id', `${mainId} differs from current-snapshot-id ${current}`);
      } else if (current === -1n && main !== undefined) {
        c.add(
          'current-snapshot-id',
          `missing (or -1) while refs.main points at snapshot ${mainId ?? show(main)}`,
        );
      }
    }
  }

  checkLog(c, c.objects(json, 'snapshot-log', '', false), 'snapshot-id', lastUpdated, 'snapshot-log');
  checkLog(c, c.objects(json, 'metadata-log', '', false), 'metadata-file', lastUpdated, 'metadata-log');

  for (const [e, at] of c.objects(json, 'statistics', '', false) ?? []) {
    c.long(e, 'snapshot-id', at, true);
    c.string(e, 'statistics-path', at, true);
    c.long(e, 'file-size-in-bytes', at, true);
    c.long(e, 'file-footer-size-in-bytes', at, true);
    c.objects(e, 'blob-metadata', at, true);
  }
  for (const [e, at] of c.objects(json, 'partition-statistics', '', false) ?? []) {
    c.long(e, 'snapshot-id', at, true);
    c.string(e, 'statistics-path', at, true);
    c.long(e, 'file-size-in-bytes', at, true);
  }
  return c.problems;
}

/**
 * Throws {@link InvalidMetadataError} naming `file` and the first offending field when Iceberg
 * readers would refuse to load this metadata.
 */
export function validateTableMetadata(json: JsonObject, file: string): void {
  const problems = findMetadataProblems(json);
  if (problems.length > 0) throw new InvalidMetadataError(file, problems);
}
