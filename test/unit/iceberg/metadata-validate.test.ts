/**
 * The metadata validator: every real metadata file (the bundled sample, Impala's fixture tables)
 * passes, and each rule Iceberg readers enforce on load refuses a mutated copy of a real file,
 * naming the field by its JSON path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CorruptFileError, ExitCode, exitCodeFor } from '../../../src/errors.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import {
  findMetadataProblems,
  InvalidMetadataError,
  validateTableMetadata,
} from '../../../src/iceberg/metadata-validate.ts';
import { cloneJson } from '../../../src/sync/rewrite.ts';
import type { JsonObject } from '../../../src/util/json.ts';
import { impalaFixtures, repoRoot, walk } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const sampleDir = path.join(repoRoot, 'examples', 'replica', 'warehouse', 'sales', 'orders', 'metadata');
const isMetadata = (p: string) => /\.metadata\.json(\.gz)?$/.test(p);
const realFiles = [...walk(sampleDir, isMetadata), ...walk(impalaFixtures, isMetadata)];

function load(file: string): JsonObject {
  return decodeMetadata(readFileSync(file), file).json;
}

/** The newest sample version: v2, snapshots with parents, refs main and a tag, a metadata log. */
const sampleFile = path.join(sampleDir, 'v8.metadata.json');
const sample = load(sampleFile);

/** A real file of the given format version with at least `snapshots` snapshots. */
function realOf(version: bigint, snapshots = 1): { file: string; json: JsonObject } {
  for (const file of realFiles) {
    const json = load(file);
    const n = Array.isArray(json.snapshots) ? json.snapshots.length : 0;
    if (json['format-version'] === version && n >= snapshots) return { file, json };
  }
  throw new Error(`no real v${version} metadata with ${snapshots} snapshots`);
}

function fieldsOf(json: JsonObject): string[] {
  return findMetadataProblems(json).map((p) => p.field);
}

type Mutation = readonly [what: string, mutate: (j: JsonObject) => void, field: string];

const snaps = (j: JsonObject) => j.snapshots as JsonObject[];
const refs = (j: JsonObject) => j.refs as Record<string, JsonObject>;

/** The tests that read the real files beyond the bundled sample. */
const fixtures = requireFixtures();

describe('table metadata validation', () => {
  it('finds the real metadata files', fixtures, () => {
    assert.ok(realFiles.length >= 100, `found ${realFiles.length}`);
    assert.ok(realFiles.includes(sampleFile));
  });

  it('accepts every real metadata file (sample and Impala fixtures, v1, v2 and v3)', fixtures, () => {
    const versions = new Set<string>();
    for (const file of realFiles) {
      const json = load(file);
      versions.add(String(json['format-version']));
      assert.deepEqual(findMetadataProblems(json), [], file);
      validateTableMetadata(json, file);
    }
    assert.deepEqual([...versions].sort(), ['1', '2', '3']);
  });

  const v2Mutations: Mutation[] = [
    [
      'current-snapshot-id missing while refs.main is set',
      (j) => delete j['current-snapshot-id'],
      'current-snapshot-id',
    ],
    [
      'current-snapshot-id -1 while refs.main is set',
      (j) => {
        j['current-snapshot-id'] = -1n;
      },
      'current-snapshot-id',
    ],
    [
      'refs.main not the current snapshot',
      (j) => {
        refs(j).main!['snapshot-id'] = snaps(j)[0]!['snapshot-id']!;
      },
      'refs.main.snapshot-id',
    ],
    [
      'current snapshot not in snapshots',
      (j) => {
        j['current-snapshot-id'] = 42n;
        delete j.refs;
      },
      'current-snapshot-id',
    ],
    [
      'a tag naming no snapshot',
      (j) => {
        refs(j).nightly = { 'snapshot-id': 42n, type: 'tag' };
      },
      'refs.nightly.snapshot-id',
    ],
    [
      'a ref of an unknown type',
      (j) => {
        refs(j).main!.type = 'trunk';
      },
      'refs.main.type',
    ],
    [
      'a tag with a branch setting',
      (j) => {
        refs(j).nightly = {
          'snapshot-id': snaps(j)[0]!['snapshot-id']!,
          type: 'tag',
          'min-snapshots-to-keep': 2n,
        };
      },
      'refs.nightly.min-snapshots-to-keep',
    ],
    [
      'a sequence number above last-sequence-number',
      (j) => {
        snaps(j)[0]!['sequence-number'] = (j['last-sequence-number'] as bigint) + 1n;
      },
      'snapshots[0].sequence-number',
    ],
    ['no last-sequence-number in v2', (j) => delete j['last-sequence-number'], 'last-sequence-number'],
    ['no table-uuid in v2', (j) => delete j['table-uuid'], 'table-uuid'],
    ['no last-updated-ms', (j) => delete j['last-updated-ms'], 'last-updated-ms'],
    ['no last-column-id', (j) => delete j['last-column-id'], 'last-column-id'],
    ['no location', (j) => delete j.location, 'location'],
    ['no format-version', (j) => delete j['format-version'], 'format-version'],
    ['no schemas in v2', (j) => delete j.schemas, 'schemas'],
    ['no partition-specs in v2', (j) => delete j['partition-specs'], 'partition-specs'],
    ['no last-partition-id in v2', (j) => delete j['last-partition-id'], 'last-partition-id'],
    ['no sort-orders in v2', (j) => delete j['sort-orders'], 'sort-orders'],
    [
      'current-schema-id naming no schema',
      (j) => {
        j['current-schema-id'] = 99n;
      },
      'current-schema-id',
    ],
    [
      'default-spec-id naming no spec',
      (j) => {
        j['default-spec-id'] = 99n;
      },
      'default-spec-id',
    ],
    [
      'default-sort-order-id naming no order',
      (j) => {
        j['default-sort-order-id'] = 99n;
      },
      'default-sort-order-id',
    ],
    [
      'two snapshots with one id',
      (j) => {
        snaps(j)[1]!['snapshot-id'] = snaps(j)[0]!['snapshot-id']!;
      },
      'snapshots[1].snapshot-id',
    ],
    [
      'a parent chain that loops',
      (j) => {
        snaps(j)[0]!['parent-snapshot-id'] = snaps(j)[1]!['snapshot-id']!;
        snaps(j)[1]!['parent-snapshot-id'] = snaps(j)[0]!['snapshot-id']!;
      },
      'snapshots[0].parent-snapshot-id',
    ],
    [
      'a snapshot without a manifest list',
      (j) => delete snaps(j)[0]!['manifest-list'],
      'snapshots[0].manifest-list',
    ],
    [
      'a snapshot id that is not an integer',
      (j) => {
        snaps(j)[0]!['snapshot-id'] = 'x';
      },
      'snapshots[0].snapshot-id',
    ],
    [
      'a snapshot id beyond 64 bits',
      (j) => {
        snaps(j)[0]!['snapshot-id'] = 2n ** 63n;
      },
      'snapshots[0].snapshot-id',
    ],
    [
      'a summary value that is not a string',
      (j) => {
        (snaps(j)[0]!.summary as JsonObject)['added-records'] = 3n;
      },
      'snapshots[0].summary.added-records',
    ],
    [
      'a property value that is not a string',
      (j) => {
        (j.properties as JsonObject).owner = 1n;
      },
      'properties.owner',
    ],
    [
      'metadata-log out of time order',
      (j) => {
        const log = j['metadata-log'] as JsonObject[];
        log[1]!['timestamp-ms'] = (log[0]!['timestamp-ms'] as bigint) - 3_600_000n;
      },
      'metadata-log[1].timestamp-ms',
    ],
    [
      'last-updated-ms before the last metadata-log entry',
      (j) => {
        const log = j['metadata-log'] as JsonObject[];
        j['last-updated-ms'] = (log.at(-1)!['timestamp-ms'] as bigint) - 3_600_000n;
      },
      'last-updated-ms',
    ],
    [
      'two schemas with one id',
      (j) => {
        (j.schemas as JsonObject[]).push(cloneJson((j.schemas as JsonObject[])[0]!));
      },
      'schemas[2].schema-id',
    ],
    [
      'a field id used twice in a schema',
      (j) => {
        const f = (j.schemas as JsonObject[])[0]!.fields as JsonObject[];
        f[1]!.id = f[0]!.id!;
      },
      'schemas[0]',
    ],
    [
      'a default spec on a column the schema lacks',
      (j) => {
        ((j['partition-specs'] as JsonObject[])[0]!.fields as JsonObject[])[0]!['source-id'] = 77n;
      },
      'partition-specs[0].fields[0].source-id',
    ],
    [
      'statistics without their footer size',
      (j) => {
        j.statistics = [
          {
            'snapshot-id': snaps(j)[0]!['snapshot-id']!,
            'statistics-path': '/s.stats',
            'file-size-in-bytes': 10n,
            'blob-metadata': [],
          },
        ];
      },
      'statistics[0].file-footer-size-in-bytes',
    ],
  ];

  it('the v2 sample has what the mutations need', () => {
    assert.equal(sample['format-version'], 2n);
    assert.ok(snaps(sample).length >= 2 && refs(sample).main);
    assert.ok((sample['metadata-log'] as JsonObject[]).length >= 2);
    assert.ok((sample.schemas as JsonObject[]).length >= 2);
  });

  for (const [what, mutate, field] of v2Mutations) {
    it(`refuses ${what}, naming ${field}`, () => {
      const json = cloneJson(sample);
      mutate(json);
      assert.ok(fieldsOf(json).includes(field), `${what}: got ${JSON.stringify(findMetadataProblems(json))}`);
      assert.throws(
        () => validateTableMetadata(json, '/dr/v9.metadata.json'),
        (err: unknown) =>
          err instanceof InvalidMetadataError &&
          err instanceof CorruptFileError &&
          exitCodeFor(err) === ExitCode.BAD_INPUT &&
          err.file === '/dr/v9.metadata.json' &&
          err.message.startsWith('/dr/v9.metadata.json: invalid table metadata: ') &&
          err.problems.some((p) => p.field === field),
      );
    });
  }

  it('names the first problem in the message and counts the others', () => {
    const json = cloneJson(sample);
    delete json['current-snapshot-id'];
    delete json['table-uuid'];
    assert.throws(
      () => validateTableMetadata(json, 'm.json'),
      /^InvalidMetadataError: m\.json: invalid table metadata: table-uuid: required field is missing \(and 1 more problem\(s\)\)$/,
    );
  });

  it('accepts what Iceberg itself accepts on load', () => {
    const json = cloneJson(sample);
    const first = snaps(json)[0]!;
    first['parent-snapshot-id'] = 12345n; // an expired parent
    delete first['sequence-number']; // 0: written before an upgrade from v1
    (json['snapshot-log'] as JsonObject[]).unshift({ 'timestamp-ms': 1n, 'snapshot-id': 777n }); // expired
    json.statistics = [
      {
        'snapshot-id': 888n, // statistics of an expired snapshot
        'statistics-path': '/s.stats',
        'file-size-in-bytes': 10n,
        'file-footer-size-in-bytes': 5n,
        'blob-metadata': [],
      },
    ];
    json['last-column-id'] = 1n; // below the ids in use, as Hive-written tables record it
    delete json.refs; // readers derive main from current-snapshot-id
    assert.deepEqual(findMetadataProblems(json), []);
  });

  it('applies the v1 rules: legacy single schema and spec, no sequence numbers', fixtures, () => {
    const { file, json } = realOf(1n);
    assert.deepEqual(findMetadataProblems(json), [], file);
    const withSeq = cloneJson(json);
    snaps(withSeq)[0]!['sequence-number'] = 3n;
    assert.deepEqual(fieldsOf(withSeq), ['snapshots[0].sequence-number']);
    const noSchema = cloneJson(json);
    delete noSchema.schemas;
    delete noSchema.schema;
    assert.ok(fieldsOf(noSchema).includes('schemas'));
    // v1 may leave the sort orders and the last partition id out.
    const minimal = cloneJson(json);
    delete minimal['sort-orders'];
    delete minimal['default-sort-order-id'];
    delete minimal['last-partition-id'];
    assert.deepEqual(findMetadataProblems(minimal), []);
  });

  it('applies the v3 rules: next-row-id, row lineage of snapshots', fixtures, () => {
    const { file, json } = realOf(3n);
    assert.deepEqual(findMetadataProblems(json), [], file);
    const noNext = cloneJson(json);
    delete noNext['next-row-id'];
    assert.deepEqual(fieldsOf(noNext), ['next-row-id']);
    const lineage = cloneJson(json);
    snaps(lineage)[0]!['first-row-id'] = 0n;
    delete snaps(lineage)[0]!['added-rows'];
    assert.deepEqual(fieldsOf(lineage), ['snapshots[0].added-rows']);
    const negative = cloneJson(json);
    snaps(negative)[0]!['first-row-id'] = -1n;
    snaps(negative)[0]!['added-rows'] = 1n;
    assert.deepEqual(fieldsOf(negative), ['snapshots[0].first-row-id']);
  });

  it('refuses format versions it does not know, and stops there', () => {
    const json = cloneJson(sample);
    json['format-version'] = 4n;
    assert.deepEqual(fieldsOf(json), ['format-version']);
  });
});
