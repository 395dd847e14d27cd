/**
 * Benchmark (not a test): add-files on N Parquet files — wall time and footers read per
 * second — then a rerun (no-op) and an incremental run adding 50 files; beside it, for the
 * record, PyIceberg's `Table.add_files` on the same files in the same run (when the interop
 * harness venv `.tools/py` is installed), timed alone and with the `create_table` before it (ours
 * creates the table within its run), and the ratios.
 *
 *   node bench/add-files.bench.ts [files=1000] [rowsPerFile=1000]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { addFiles } from '../src/addfiles/engine.ts';
import { SqlCatalog } from '../src/catalog/sql/sql.ts';
import { StorageRouter } from '../src/storage/router.ts';
import { repoRoot } from '../test/helpers/paths.ts';

const files = Number(process.argv[2] ?? 1000);
const rows = Number(process.argv[3] ?? 1000);
const base = path.join(repoRoot, '.work', 'bench', `add-files-${files}x${rows}`);
rmSync(base, { recursive: true, force: true });
const data = path.join(base, 'replica', 'events');
mkdirSync(data, { recursive: true });

function writeFile(i: number): void {
  const ids = Array.from({ length: rows }, (_, r) => BigInt(i * rows + r));
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: 'event_id', data: ids, type: 'INT64' },
      { name: 'user', data: ids.map((x) => `user-${x % 977n}`), type: 'STRING' },
      { name: 'amount', data: ids.map((x) => Number(x % 1000n) / 10), type: 'DOUBLE' },
      {
        name: 'payload',
        data: ids.map((x) => `payload ${x} ${'x'.repeat(Number(x % 40n))}`),
        type: 'STRING',
      },
    ],
    rowGroupSize: Math.max(1, Math.ceil(rows / 2)),
  });
  writeFileSync(path.join(data, `part-${String(i).padStart(6, '0')}.parquet`), new Uint8Array(bytes));
}

let t = performance.now();
for (let i = 0; i < files; i++) writeFile(i);
console.log(
  `wrote ${files} Parquet files of ${rows} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

const resolve = new StorageRouter().resolver;
const catalog = await SqlCatalog.open({
  name: 'dr',
  uri: `sqlite:///${base}/catalog.db`,
  storageFor: resolve,
});
const opts = {
  table: { namespace: ['bench'], name: 'events' },
  catalog,
  resolve,
  dataPath: data,
  metadataRoot: path.join(base, 'dr', 'bench', 'events', 'metadata'),
  create: {},
};

const row = (label: string, ms: number, footers: number, added: number) =>
  console.log(
    `${label.padEnd(28)} ${ms.toFixed(0).padStart(7)} ms  ${String(footers).padStart(6)} footers  ${String(added).padStart(6)} added` +
      (footers ? `  ${Math.round(footers / (ms / 1000)).toLocaleString('en-US')} footers/s` : ''),
  );

t = performance.now();
const first = await addFiles(opts);
const firstSeconds = (performance.now() - t) / 1000;
row(`add-files, ${files} files`, firstSeconds * 1000, first.footersRead, first.filesAdded);
t = performance.now();
const again = await addFiles(opts);
row('rerun (no-op)', performance.now() - t, again.footersRead, again.filesAdded);
for (let i = files; i < files + 50; i++) writeFile(i);
t = performance.now();
const inc = await addFiles(opts);
row('incremental, +50 files', performance.now() - t, inc.footersRead, inc.filesAdded);
await catalog.close();

const python = path.join(repoRoot, '.tools', 'py', 'bin', 'python');
if (!existsSync(python)) {
  console.log('PyIceberg: skipped (no .tools/py; run scripts/setup-harness.sh)');
} else {
  // The same first batch of files, added by PyIceberg to its own SqlCatalog table.
  const script = `
import glob, json, os, sys, time
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
base, n = sys.argv[1], int(sys.argv[2])
paths = sorted(glob.glob(os.path.join(base, 'replica', 'events', '*.parquet')))[:n]
cat = SqlCatalog('pyiceberg', uri=f'sqlite:///{base}/pyiceberg.db', warehouse=f'file://{base}/pyiceberg-wh')
cat.create_namespace_if_not_exists('bench')
t0 = time.perf_counter()
table = cat.create_table('bench.events', schema=pq.read_schema(paths[0]))
t = time.perf_counter()
table.add_files(paths)
end = time.perf_counter()
print(json.dumps({'seconds': end - t, 'withCreate': end - t0, 'files': len(paths)}))
`;
  const r = spawnSync(python, ['-c', script, base, String(files)], { encoding: 'utf8' });
  if (r.status !== 0) console.log(`PyIceberg: failed (${r.stderr.trim().split('\n').at(-1)})`);
  else {
    const { seconds, withCreate } = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      seconds: number;
      withCreate: number;
    };
    row(`PyIceberg add_files, ${files}`, seconds * 1000, files, files);
    // Ours creates the table from the first footer within its run: the like-for-like figure.
    row('PyIceberg create + add_files', withCreate * 1000, files, files);
    console.log(
      `ours vs PyIceberg: ${(seconds / firstSeconds).toFixed(1)}x (add_files alone), ${(withCreate / firstSeconds).toFixed(1)}x (with create_table, as ours)`,
    );
  }
}
