/**
 * The changes that turn one table metadata into another, as the Iceberg REST spec's
 * `TableUpdate`s, and the `TableRequirement`s that make applying them conditional on the table
 * still being what was read. A catalog whose commit is server-side (REST) is moved from what it
 * holds to the next replicated version this way; the server then writes its own metadata file.
 *
 * Both sides are metadata JSON as written (v1's single `schema` / `partition-spec` forms are
 * read too). The server assigns ids to added schemas, specs and sort orders itself (the highest
 * plus one, or the id of an equal one); {@link metadataUpdates} predicts them and refuses a
 * change whose ids the server would not reproduce, since snapshots name schemas by id.
 */
import { UnsupportedError } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue, jsonEquals } from '../util/json.ts';

/** A `TableRequirement` or `TableUpdate` of the REST spec (its JSON form). */
export type RestChange = JsonObject;

/** What {@link metadataUpdates} returns. */
export interface MetadataChanges {
  readonly requirements: RestChange[];
  readonly updates: RestChange[];
}

/** Options of {@link metadataUpdates}. */
export interface MetadataUpdatesOptions {
  /**
   * Properties the result must have whatever the target says (e.g. `write.metadata.path` of a
   * catalog that must write its files outside the replica). Never removed.
   */
  readonly forcedProperties?: Readonly<Record<string, string>>;
  /** Names the target in messages. */
  readonly targetName?: string;
}

/** The parts of metadata the changes are computed over, normalised across format versions. */
interface Shape {
  readonly formatVersion: number;
  readonly uuid?: string;
  readonly location?: string;
  readonly properties: Record<string, string>;
  readonly schemas: JsonObject[];
  readonly currentSchemaId: number;
  readonly lastColumnId?: bigint;
  readonly specs: JsonObject[];
  readonly defaultSpecId: number;
  readonly lastPartitionId?: bigint;
  readonly sortOrders: JsonObject[];
  readonly defaultSortOrderId: number;
  readonly lastSequenceNumber: bigint;
  readonly snapshots: JsonObject[];
  readonly refs: Record<string, JsonObject>;
  readonly statistics: JsonObject[];
  readonly partitionStatistics: JsonObject[];
  readonly encryptionKeys?: JsonValue;
}

const num = (v: JsonValue | undefined, dflt: number): number => (typeof v === 'bigint' ? Number(v) : dflt);
const objects = (v: JsonValue | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isJsonObject) : []);

function shapeOf(json: JsonObject): Shape {
  const properties: Record<string, string> = {};
  if (isJsonObject(json.properties)) {
    for (const [k, v] of Object.entries(json.properties)) if (typeof v === 'string') properties[k] = v;
  }
  let schemas = objects(json.schemas);
  if (schemas.length === 0 && isJsonObject(json.schema)) {
    schemas = [{ ...json.schema, 'schema-id': json.schema['schema-id'] ?? 0n }];
  }
  let specs = objects(json['partition-specs']);
  if (specs.length === 0 && Array.isArray(json['partition-spec'])) {
    specs = [{ 'spec-id': 0n, fields: json['partition-spec'] }];
  }
  let sortOrders = objects(json['sort-orders']);
  if (sortOrders.length === 0) sortOrders = [{ 'order-id': 0n, fields: [] }];
  const snapshots = objects(json.snapshots);
  const refs: Record<string, JsonObject> = {};
  if (isJsonObject(json.refs)) {
    for (const [name, r] of Object.entries(json.refs)) if (isJsonObject(r)) refs[name] = r;
  }
  const current = json['current-snapshot-id'];
  if (!refs.main && typeof current === 'bigint' && current !== -1n) {
    refs.main = { 'snapshot-id': current, type: 'branch' };
  }
  return {
    formatVersion: num(json['format-version'], 1),
    ...(typeof json['table-uuid'] === 'string' ? { uuid: json['table-uuid'] } : {}),
    ...(typeof json.location === 'string' ? { location: json.location } : {}),
    properties,
    schemas,
    currentSchemaId: num(json['current-schema-id'], num(schemas[0]?.['schema-id'], 0)),
    ...(typeof json['last-column-id'] === 'bigint' ? { lastColumnId: json['last-column-id'] } : {}),
    specs,
    defaultSpecId: num(json['default-spec-id'], num(specs[0]?.['spec-id'], 0)),
    ...(typeof json['last-partition-id'] === 'bigint' ? { lastPartitionId: json['last-partition-id'] } : {}),
    sortOrders,
    defaultSortOrderId: num(json['default-sort-order-id'], 0),
    lastSequenceNumber: typeof json['last-sequence-number'] === 'bigint' ? json['last-sequence-number'] : 0n,
    snapshots,
    refs,
    statistics: objects(json.statistics),
    partitionStatistics: objects(json['partition-statistics']),
    ...(json['encryption-keys'] !== undefined ? { encryptionKeys: json['encryption-keys'] } : {}),
  };
}

/** A schema without its id, for comparing structure. */
function structure(o: JsonObject, idKey: string): JsonObject {
  const { [idKey]: _id, ...rest } = o;
  return rest;
}

/**
 * The id the server gives an added element: an equal one's, else the highest plus one (at least
 * `floor`), as Iceberg's TableMetadata.Builder assigns schema, spec and sort-order ids.
 */
function predictId(existing: readonly JsonObject[], added: JsonObject, idKey: string, floor: number): number {
  let next = floor;
  for (const e of existing) {
    if (jsonEquals(structure(e, idKey), structure(added, idKey))) return num(e[idKey], 0);
    next = Math.max(next, num(e[idKey], 0) + 1);
  }
  return next;
}

/**
 * Computes the requirements and updates that move a table at `base` to `target`. The
 * requirements pin everything a concurrent writer would change (the table's uuid, every ref
 * touched, the current schema, spec, sort order and last assigned ids), so that the server
 * refuses the commit (409) if the table moved since `base` was read.
 */
export function metadataUpdates(
  base: JsonObject,
  target: JsonObject,
  options: MetadataUpdatesOptions = {},
): MetadataChanges {
  const b = shapeOf(base);
  const t = shapeOf(target);
  const what = options.targetName ?? 'the new metadata';
  const updates: RestChange[] = [];

  if (b.uuid !== undefined && t.uuid !== undefined && b.uuid !== t.uuid) {
    throw new UnsupportedError(
      what,
      `table-uuid ${t.uuid} differs from the catalog's table ${b.uuid}: the source table was replaced by a new ` +
        'one; a catalog cannot change a table uuid in place (drop the DR table, then sync again)',
    );
  }
  if (t.formatVersion < b.formatVersion) {
    throw new UnsupportedError(
      what,
      `format-version ${t.formatVersion} is older than the catalog's ${b.formatVersion}`,
    );
  }
  if (!jsonEquals(b.encryptionKeys ?? null, t.encryptionKeys ?? null)) {
    throw new UnsupportedError(
      what,
      'encryption-keys changed; committing encryption keys through a REST catalog is not supported',
    );
  }
  if (t.formatVersion > b.formatVersion) {
    updates.push({ action: 'upgrade-format-version', 'format-version': BigInt(t.formatVersion) });
  }

  // Schemas, partition specs, sort orders: added in id order, each id checked against the server's.
  const addAll = (
    baseList: readonly JsonObject[],
    targetList: readonly JsonObject[],
    idKey: string,
    floor: number,
    kind: string,
    toUpdate: (o: JsonObject) => RestChange,
  ) => {
    const known = new Set(baseList.map((o) => num(o[idKey], 0)));
    const existing = [...baseList];
    const added = targetList
      .filter((o) => !known.has(num(o[idKey], 0)))
      .sort((x, y) => num(x[idKey], 0) - num(y[idKey], 0));
    for (const o of added) {
      const id = num(o[idKey], 0);
      const predicted = predictId(existing, o, idKey, floor);
      if (predicted !== id) {
        throw new UnsupportedError(
          what,
          `${kind} ${id} would be given id ${predicted} by the catalog (it numbers new ones itself), ` +
            'so snapshots naming it would break',
        );
      }
      existing.push(o);
      updates.push(toUpdate(o));
    }
    for (const o of baseList) {
      const twin = targetList.find((x) => num(x[idKey], 0) === num(o[idKey], 0));
      if (twin && !jsonEquals(structure(twin, idKey), structure(o, idKey))) {
        throw new UnsupportedError(
          what,
          `${kind} ${num(o[idKey], 0)} differs from the catalog's ${kind} of that id`,
        );
      }
    }
  };
  addAll(b.schemas, t.schemas, 'schema-id', b.currentSchemaId, 'schema', (schema) => ({
    action: 'add-schema',
    schema,
    ...(t.lastColumnId !== undefined ? { 'last-column-id': t.lastColumnId } : {}),
  }));
  if (t.currentSchemaId !== b.currentSchemaId) {
    updates.push({ action: 'set-current-schema', 'schema-id': BigInt(t.currentSchemaId) });
  }
  addAll(b.specs, t.specs, 'spec-id', 0, 'partition spec', (spec) => ({ action: 'add-spec', spec }));
  if (t.defaultSpecId !== b.defaultSpecId) {
    updates.push({ action: 'set-default-spec', 'spec-id': BigInt(t.defaultSpecId) });
  }
  addAll(b.sortOrders, t.sortOrders, 'order-id', 1, 'sort order', (order) => ({
    action: 'add-sort-order',
    'sort-order': order,
  }));
  if (t.defaultSortOrderId !== b.defaultSortOrderId) {
    updates.push({ action: 'set-default-sort-order', 'sort-order-id': BigInt(t.defaultSortOrderId) });
  }

  if (t.location !== undefined && t.location !== b.location) {
    updates.push({ action: 'set-location', location: t.location });
  }

  const forced = options.forcedProperties ?? {};
  const wanted = { ...t.properties, ...forced };
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) if (b.properties[k] !== v) set[k] = v;
  const removals = Object.keys(b.properties).filter((k) => !(k in wanted));
  if (Object.keys(set).length > 0) updates.push({ action: 'set-properties', updates: set });
  if (removals.length > 0) updates.push({ action: 'remove-properties', removals });

  // Snapshots in commit order: the server requires each new sequence number above the last.
  const baseIds = new Set(b.snapshots.map((s) => s['snapshot-id']));
  const targetIds = new Set(t.snapshots.map((s) => s['snapshot-id']));
  const seq = (s: JsonObject) => (typeof s['sequence-number'] === 'bigint' ? s['sequence-number'] : 0n);
  const ts = (s: JsonObject) => (typeof s['timestamp-ms'] === 'bigint' ? s['timestamp-ms'] : 0n);
  const added = t.snapshots
    .filter((s) => !baseIds.has(s['snapshot-id']))
    .sort((x, y) =>
      seq(x) !== seq(y) ? (seq(x) < seq(y) ? -1 : 1) : ts(x) < ts(y) ? -1 : ts(x) > ts(y) ? 1 : 0,
    );
  for (const snapshot of added) updates.push({ action: 'add-snapshot', snapshot });

  for (const [name, ref] of Object.entries(t.refs)) {
    if (b.refs[name] && jsonEquals(b.refs[name], ref)) continue;
    updates.push({ action: 'set-snapshot-ref', 'ref-name': name, ...ref, type: ref.type ?? 'branch' });
  }
  for (const name of Object.keys(b.refs)) {
    if (!t.refs[name]) updates.push({ action: 'remove-snapshot-ref', 'ref-name': name });
  }
  const removedSnapshots = b.snapshots.map((s) => s['snapshot-id']).filter((id) => !targetIds.has(id));
  if (removedSnapshots.length > 0) {
    updates.push({ action: 'remove-snapshots', 'snapshot-ids': removedSnapshots as JsonValue[] });
  }

  const statsChanges = (
    baseList: readonly JsonObject[],
    targetList: readonly JsonObject[],
    setAction: string,
    setKey: string,
    removeAction: string,
  ) => {
    const key = (o: JsonObject) => String(o['snapshot-id']);
    const baseBy = new Map(baseList.map((o) => [key(o), o]));
    const targetBy = new Map(targetList.map((o) => [key(o), o]));
    for (const [k, o] of targetBy) {
      const old = baseBy.get(k);
      if (old && jsonEquals(old, o)) continue;
      updates.push({
        action: setAction,
        ...(setKey === 'statistics' ? { 'snapshot-id': o['snapshot-id'] ?? null } : {}),
        [setKey]: o,
      });
    }
    for (const [k, o] of baseBy) {
      if (!targetBy.has(k)) updates.push({ action: removeAction, 'snapshot-id': o['snapshot-id'] ?? null });
    }
  };
  statsChanges(b.statistics, t.statistics, 'set-statistics', 'statistics', 'remove-statistics');
  statsChanges(
    b.partitionStatistics,
    t.partitionStatistics,
    'set-partition-statistics',
    'partition-statistics',
    'remove-partition-statistics',
  );

  // Schemas and specs the target no longer has (never the current ones, which the server refuses).
  const goneSchemas = b.schemas
    .map((s) => num(s['schema-id'], 0))
    .filter((id) => id !== t.currentSchemaId && !t.schemas.some((s) => num(s['schema-id'], 0) === id));
  if (goneSchemas.length > 0) {
    updates.push({ action: 'remove-schemas', 'schema-ids': goneSchemas.map((id) => BigInt(id)) });
  }
  const goneSpecs = b.specs
    .map((s) => num(s['spec-id'], 0))
    .filter((id) => id !== t.defaultSpecId && !t.specs.some((s) => num(s['spec-id'], 0) === id));
  if (goneSpecs.length > 0) {
    updates.push({ action: 'remove-partition-specs', 'spec-ids': goneSpecs.map((id) => BigInt(id)) });
  }

  const requirements: RestChange[] = [];
  if (b.uuid !== undefined) requirements.push({ type: 'assert-table-uuid', uuid: b.uuid });
  for (const name of new Set([...Object.keys(b.refs), ...Object.keys(t.refs)])) {
    requirements.push({
      type: 'assert-ref-snapshot-id',
      ref: name,
      'snapshot-id': b.refs[name]?.['snapshot-id'] ?? null,
    });
  }
  requirements.push({ type: 'assert-current-schema-id', 'current-schema-id': BigInt(b.currentSchemaId) });
  if (b.lastColumnId !== undefined) {
    requirements.push({ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': b.lastColumnId });
  }
  requirements.push({ type: 'assert-default-spec-id', 'default-spec-id': BigInt(b.defaultSpecId) });
  if (b.lastPartitionId !== undefined) {
    requirements.push({
      type: 'assert-last-assigned-partition-id',
      'last-assigned-partition-id': b.lastPartitionId,
    });
  }
  requirements.push({
    type: 'assert-default-sort-order-id',
    'default-sort-order-id': BigInt(b.defaultSortOrderId),
  });
  return { requirements, updates };
}

/**
 * What a committed table must agree on with the target for the commit to count as the target:
 * the snapshots, every ref, the current schema and default spec, and (v3) the next row id.
 * Returns the first difference, or `undefined` when they agree.
 */
export function tableStateDifference(committed: JsonObject, target: JsonObject): string | undefined {
  const c = shapeOf(committed);
  const t = shapeOf(target);
  const ids = (s: Shape) => s.snapshots.map((x) => String(x['snapshot-id'])).sort();
  if (!jsonEquals(ids(c), ids(t))) return 'the snapshots differ';
  for (const name of new Set([...Object.keys(c.refs), ...Object.keys(t.refs)])) {
    if (c.refs[name]?.['snapshot-id'] !== t.refs[name]?.['snapshot-id']) return `ref '${name}' differs`;
  }
  if (c.currentSchemaId !== t.currentSchemaId) return 'the current schema differs';
  if (c.defaultSpecId !== t.defaultSpecId) return 'the default partition spec differs';
  const next = (j: JsonObject) => j['next-row-id'];
  if (next(target) !== undefined && next(committed) !== next(target)) return 'next-row-id differs';
  return undefined;
}
