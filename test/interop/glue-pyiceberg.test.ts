/**
 * Rewrite-mode sync into AWS Glue (the emulator), read back by PyIceberg's own GlueCatalog: the
 * harness's fixture tables (written by Spark's Iceberg runtime and by PyIceberg) are replicated by
 * copying, first without their newest metadata version (replication still under way), and synced
 * with the command line (`--catalog-type glue --catalog-uri`); PyIceberg, configured with
 * `glue.endpoint`, region and dummy keys, must then read every snapshot and ref with exactly the
 * rows the source version had. The newest version arrives, a second sync commits it incrementally
 * (and PyIceberg reads the source's current rows), a third changes nothing. The replica is
 * byte-identical throughout, and every path the committed metadata names is in the replica or
 * under the DR metadata root, so no read can have reached the original tables.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { GetTableCommand } from '@aws-sdk/client-glue';
import { decodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { LocalStorage } from '../../src/storage/local/local.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { walkTable } from '../../src/table/walk.ts';
import { envWithout, runCli } from '../helpers/cli.ts';
import {
  GLUE_KEYS,
  GLUE_REGION,
  glueEndpoint,
  glueEnv,
  glueSkipReason,
  glueTestClient,
  uniqueDatabase,
} from '../helpers/glue.ts';
import { repoRoot } from '../helpers/paths.ts';
import { requireServer } from '../helpers/requires.ts';
import { treeChanges, treeDigest } from '../helpers/tree.ts';
import {
  type GeneratedTable,
  generateFixtures,
  harnessPython,
  type ReadResult,
  readTables,
  type TableRead,
} from './harness.ts';
import { assertSameReads, interopSkipReason } from './helpers.ts';

const work = path.join(repoRoot, '.work', 'interop');
const genDir = path.join(work, 'gen');
const base = path.join(work, 'glue');
const replica = path.join(base, 'replica');
const held = path.join(base, 'held');
const drRoot = path.join(base, 'dr');

/** PyIceberg's GlueCatalog reading tables canonically, as harness/iceberg_harness/read.py does. */
const GLUE_READER = `
import json, sys
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["harness"])
from iceberg_harness import env
from iceberg_harness.canonical import render
from pyiceberg.catalog.glue import GlueCatalog
env.pin_utc()
cat = GlueCatalog("dr", **spec["properties"])
def attempt(fn):
    try:
        return fn()
    except Exception as e:
        return {"error": (type(e).__name__ + ": " + str(e))[:2000]}
out = []
for ident in spec["identifiers"]:
    entry = {"name": ident, "identifier": ident}
    try:
        tbl = cat.load_table(ident)
    except Exception as e:
        entry["error"] = type(e).__name__ + ": " + str(e)
        entry["reads"] = {}
        out.append(entry)
        continue
    entry["metadataLocation"] = tbl.metadata_location
    read = lambda sid=None: attempt(lambda: render((tbl.scan() if sid is None else tbl.scan(snapshot_id=sid)).to_arrow(), 50))
    entry["reads"] = {"pyiceberg": {
        "current": read(),
        "snapshots": {str(s.snapshot_id): read(s.snapshot_id) for s in tbl.metadata.snapshots},
        "refs": {name: read(r.snapshot_id) for name, r in tbl.metadata.refs.items()},
    }}
    out.append(entry)
print(json.dumps(out))
`;

function readThroughGlue(identifiers: string[]): TableRead[] {
  const spec = {
    harness: path.join(repoRoot, 'harness'),
    properties: {
      'glue.endpoint': glueEndpoint,
      'glue.region': GLUE_REGION,
      'glue.access-key-id': GLUE_KEYS.accessKeyId,
      'glue.secret-access-key': GLUE_KEYS.secretAccessKey,
    },
    identifiers,
  };
  const r = spawnSync(harnessPython, ['-c', GLUE_READER, JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 256 * 1024 * 1024,
    env: envWithout(/^AWS_|^PYICEBERG_/, { AWS_EC2_METADATA_DISABLED: 'true' }),
  });
  assert.equal(r.status, 0, `PyIceberg's GlueCatalog failed:\n${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TableRead[];
}

/** The metadata files of a table's metadata directory, oldest version first. */
function metadataFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /\.metadata\.json(\.gz)?$|\.gz\.metadata\.json$/.test(n))
    .sort((a, b) => versionOf(a) - versionOf(b));
}
function versionOf(name: string): number {
  return Number(/^v?(\d+)[.-]/.exec(name)?.[1] ?? -1);
}

const skip = glueSkipReason || interopSkipReason() || false;

describe(
  'rewrite-mode sync into Glue, read by PyIceberg’s GlueCatalog',
  requireServer('Glue emulator', skip),
  () => {
    it('replicates and syncs every fixture table; PyIceberg reads every snapshot and ref as the source; incremental, then no-op', async (t) => {
      const manifest = await generateFixtures(genDir);
      const db = uniqueDatabase('interop');
      rmSync(base, { recursive: true, force: true });
      mkdirSync(held, { recursive: true });
      cpSync(manifest.warehouse, replica, { recursive: true });

      // Replication under way: each table's newest metadata file has not arrived yet.
      interface Staged {
        readonly t: GeneratedTable;
        readonly tableLocation: string;
        readonly heldBack?: { file: string; aside: string };
      }
      const staged: Staged[] = manifest.tables.map((g) => {
        const tableLocation = path.join(replica, path.relative(manifest.warehouse, g.locationPath));
        const current = path.join(replica, path.relative(manifest.warehouse, g.currentMetadata));
        const files = metadataFiles(path.dirname(current));
        if (files.length < 2 || files.at(-1) !== path.basename(current)) return { t: g, tableLocation };
        const aside = path.join(held, `${g.name}-${path.basename(current)}`);
        renameSync(current, aside);
        return { t: g, tableLocation, heldBack: { file: current, aside } };
      });
      assert.ok(
        staged.some((s) => s.heldBack),
        'some fixture table has more than one version (for the incremental sync)',
      );

      let sourceRead = new Map<string, TableRead>();

      const env = envWithout(/^AWS_|^PYICEBERG_|^ICEBERG_SYNC_/, glueEnv());
      const sync = (s: Staged) =>
        runCli(
          [
            'sync',
            '--catalog-type',
            'glue',
            '--catalog-uri',
            glueEndpoint!,
            '--database',
            db,
            '--table',
            s.t.name,
            '--table-location',
            s.tableLocation,
            '--map',
            `${manifest.warehouse}=${replica}`,
            '--metadata-root',
            path.join(drRoot, s.t.name, 'metadata'),
            '--json',
          ],
          env,
        );
      const client = glueTestClient(glueEndpoint!);
      const pointer = async (name: string) =>
        (await client.send(new GetTableCommand({ DatabaseName: db, Name: name }))).Table?.Parameters;
      const router = new StorageRouter();
      const local = new LocalStorage();
      /** Every path the committed metadata names is in the replica or under the DR root. */
      const assertPathsInDr = async (name: string, location: string) => {
        const doc = decodeMetadata(await local.read(location), location);
        const outside: string[] = [];
        await walkTable(doc, location, router.resolver, (p) => {
          const file = p.path.replace(/^file:(\/\/)?/, '');
          if (!file.startsWith(`${replica}/`) && !file.startsWith(`${drRoot}/`))
            outside.push(`${p.field}: ${p.path}`);
        });
        assert.deepEqual(outside, [], `${name}: paths outside the DR site`);
      };
      const compare = (reads: TableRead[], label: (s: Staged) => string) => {
        const byName = new Map(reads.map((r) => [r.name, r]));
        let same = 0;
        for (const s of staged) {
          const actual = byName.get(`${db}.${s.t.name}`)!;
          same += assertSameReads(t, 'pyiceberg', sourceRead.get(label(s))!, {
            ...actual,
            name: label(s),
          }).same;
        }
        return same;
      };

      try {
        // First sync: each table at the newest version that fully arrived.
        let digest = treeDigest(replica);
        const first = new Map<string, string>();
        const firstSource = new Map<string, string>();
        for (const s of staged) {
          const r = sync(s);
          // Held back: the newest complete version is committed; when the one before the held-back
          // file is incomplete too (files expired at the source), the run says it is behind (3).
          const behind = s.heldBack !== undefined && r.code === 3 && r.json?.status === 'behind';
          assert.ok(
            behind || (r.code === 0 && r.json?.status === 'committed'),
            `${s.t.name}: ${r.code} ${r.stdout}`,
          );
          const location = String(r.json?.metadataLocation);
          assert.equal((await pointer(s.t.name))?.metadata_location, location);
          await assertPathsInDr(s.t.name, location);
          first.set(s.t.name, location);
          const committedSource = String(r.json?.sourceMetadata);
          const currentInReplica = path.join(replica, path.relative(manifest.warehouse, s.t.currentMetadata));
          if (!s.heldBack) assert.equal(committedSource, currentInReplica);
          firstSource.set(s.t.name, path.join(manifest.warehouse, path.relative(replica, committedSource)));
        }
        // What PyIceberg reads of the source: the version each first sync committed, and the current one.
        const source = await readTables({
          engines: ['pyiceberg'],
          tables: staged.flatMap((s) => [
            { name: `${s.t.name}@current`, metadata: s.t.currentMetadata },
            ...(s.heldBack ? [{ name: `${s.t.name}@previous`, metadata: firstSource.get(s.t.name)! }] : []),
          ]),
        });
        sourceRead = new Map((source as ReadResult).tables.map((r) => [r.name, r]));
        assert.deepEqual(treeChanges(digest, treeDigest(replica)), [], 'the replica is untouched');
        const firstReads = readThroughGlue(staged.map((s) => `${db}.${s.t.name}`));
        const sameFirst = compare(firstReads, (s) => `${s.t.name}@${s.heldBack ? 'previous' : 'current'}`);

        // The newest versions arrive: the second sync commits them, incrementally.
        for (const s of staged) if (s.heldBack) renameSync(s.heldBack.aside, s.heldBack.file);
        digest = treeDigest(replica);
        for (const s of staged) {
          const r = sync(s);
          assert.equal(r.code, 0, `${s.t.name}: ${r.stderr}`);
          const params = await pointer(s.t.name);
          if (s.heldBack) {
            assert.equal(r.json?.status, 'committed', `${s.t.name}: ${r.stdout}`);
            assert.equal(params?.previous_metadata_location, first.get(s.t.name));
            await assertPathsInDr(s.t.name, String(r.json?.metadataLocation));
          } else assert.equal(r.json?.status, 'up-to-date');
          assert.equal(params?.metadata_location, r.json?.metadataLocation);
        }
        const secondReads = readThroughGlue(staged.map((s) => `${db}.${s.t.name}`));
        const sameSecond = compare(secondReads, (s) => `${s.t.name}@current`);

        // A third sync changes nothing.
        const before = new Map<string, string | undefined>();
        for (const s of staged) before.set(s.t.name, (await pointer(s.t.name))?.metadata_location);
        for (const s of staged) {
          const r = sync(s);
          assert.equal(r.code, 0, `${s.t.name}: ${r.stderr}`);
          assert.equal(r.json?.status, 'up-to-date', `${s.t.name}: ${r.stdout}`);
          assert.equal((await pointer(s.t.name))?.metadata_location, before.get(s.t.name));
        }
        assert.deepEqual(treeChanges(digest, treeDigest(replica)), [], 'the replica is untouched');
        t.diagnostic(
          `${staged.length} tables (${staged.filter((s) => s.heldBack).length} synced incrementally): ` +
            `${sameFirst} then ${sameSecond} identical PyIceberg reads through Glue`,
        );
      } finally {
        client.destroy();
      }
    });
  },
);
