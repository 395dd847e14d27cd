/**
 * Benchmark (not a test): add-files on N Parquet files — wall time and footers read per
 * second — then a rerun (no-op) and an incremental run adding 50 files; beside it, for the
 * record, PyIceberg's `Table.add_files` on the same files in the same run (when the interop
 * harness venv `.tools/py` is installed), and the ratios. Each is measured `--repeat` times on a
 * fresh table and the median printed (one run on a shared machine varies by a third):
 * - in process: our `addFiles` call against PyIceberg's `add_files` call (also with the
 *   `create_table` before it: ours creates the table within its run), both after their imports;
 * - whole process: `iceberg-sync add-files --create` against a Python process that imports
 *   PyIceberg, creates the table and adds the files, as a user would run either.
 *
 *   node bench/add-files.bench.ts [files=1000] [rowsPerFile=1000] [--repeat 5]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { addFiles } from '../src/addfiles/engine.ts';
import { SqlCatalog } from '../src/catalog/sql/sql.ts';
import { StorageRouter } from '../src/storage/router.ts';
import { repoRoot } from '../test/helpers/paths.ts';

const args = process.argv.slice(2);
const repeatAt = args.indexOf('--repeat');
const repeat = repeatAt >= 0 ? Number(args.splice(repeatAt, 2)[1]) : 5;
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a whole number, 1 or more');
const files = Number(args[0] ?? 1000);
const rows = Number(args[1] ?? 1000);
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

const median = (xs: readonly number[]): number => {
  const o = [...xs].sort((a, b) => a - b);
  const m = o.length >> 1;
  return o.length % 2 ? o[m]! : (o[m - 1]! + o[m]!) / 2;
};
const range = (xs: readonly number[]) =>
  xs.length > 1 ? ` (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : '';
const row = (label: string, ms: readonly number[], footers: number, added: number) => {
  const m = median(ms);
  console.log(
    `${label.padEnd(34)} ${m.toFixed(0).padStart(7)} ms${range(ms).padEnd(14)} ${String(footers).padStart(6)} footers  ${String(added).padStart(6)} added` +
      (footers ? `  ${Math.round(footers / (m / 1000)).toLocaleString('en-US')} footers/s` : ''),
  );
  return m;
};
console.log(`median of ${repeat} runs, each on a fresh table (fastest–slowest in brackets)`);

// Ours in process: the addFiles call, after the imports.
const resolve = new StorageRouter().resolver;
const catalog = await SqlCatalog.open({
  name: 'dr',
  uri: `sqlite:///${base}/catalog.db`,
  storageFor: resolve,
});
const optsFor = (name: string) => ({
  table: { namespace: ['bench'], name },
  catalog,
  resolve,
  dataPath: data,
  metadataRoot: path.join(base, 'dr', 'bench', name, 'metadata'),
  create: {},
});
const oursMs: number[] = [];
let footersRead = 0;
let filesAdded = 0;
for (let k = 0; k < repeat; k++) {
  t = performance.now();
  const r = await addFiles(optsFor(`events${k}`));
  oursMs.push(performance.now() - t);
  footersRead = r.footersRead;
  filesAdded = r.filesAdded;
}
// The first run also pays the JIT's warming up, as a CLI process does; the median is of all.
const oursFirst = row(`add-files, ${files} files, first run`, [oursMs[0]!], footersRead, filesAdded);
const ours = row(`add-files, ${files} files`, oursMs, footersRead, filesAdded);

// Ours as a user runs it: the whole CLI process.
const cliMs: number[] = [];
for (let k = 0; k < repeat; k++) {
  t = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'bin', 'iceberg-sync.js'),
      'add-files',
      '--warehouse',
      path.join(base, 'cli-dr'),
      '--database',
      'bench',
      '--table',
      `events${k}`,
      '--replicated-path',
      data,
      '--create',
      '--settle',
      '0',
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  cliMs.push(performance.now() - t);
  if (r.status !== 0) throw new Error(`iceberg-sync add-files failed (${r.status}): ${r.stderr}`);
}
const oursCli = row('iceberg-sync add-files, process', cliMs, files, files);

const python = path.join(repoRoot, '.tools', 'py', 'bin', 'python');
if (!existsSync(python)) {
  console.log('PyIceberg: skipped (no .tools/py; run scripts/setup-harness.sh)');
} else {
  // The same files, added by PyIceberg to tables of its own SqlCatalog; argv: base, n, first
  // table number, runs. Prints one JSON line of per-run seconds.
  const script = `
import glob, json, os, sys, time
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
base, n, first, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
paths = sorted(glob.glob(os.path.join(base, 'replica', 'events', '*.parquet')))[:n]
cat = SqlCatalog('pyiceberg', uri=f'sqlite:///{base}/pyiceberg.db', warehouse=f'file://{base}/pyiceberg-wh')
cat.create_namespace_if_not_exists('bench')
out = {'seconds': [], 'withCreate': []}
for k in range(first, first + runs):
    t0 = time.perf_counter()
    table = cat.create_table(f'bench.events{k}', schema=pq.read_schema(paths[0]))
    t = time.perf_counter()
    table.add_files(paths)
    end = time.perf_counter()
    out['seconds'].append(end - t)
    out['withCreate'].append(end - t0)
print(json.dumps(out))
`;
  const py = (first: number, runs: number) => {
    const r = spawnSync(python, ['-c', script, base, String(files), String(first), String(runs)], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`PyIceberg failed: ${r.stderr.trim().split('\n').at(-1)}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      seconds: number[];
      withCreate: number[];
    };
  };
  const inProcess = py(0, repeat);
  const pyAdd = row(
    `PyIceberg add_files, ${files}`,
    inProcess.seconds.map((x) => x * 1000),
    files,
    files,
  );
  // Ours creates the table from the first footer within its run: the like-for-like figure.
  const pyBoth = row(
    'PyIceberg create + add_files',
    inProcess.withCreate.map((x) => x * 1000),
    files,
    files,
  );
  const processMs: number[] = [];
  for (let k = 0; k < repeat; k++) {
    t = performance.now();
    py(100 + k, 1);
    processMs.push(performance.now() - t);
  }
  const pyProcess = row('PyIceberg, process', processMs, files, files);
  console.log(
    `ours vs PyIceberg: in process ${(pyAdd / ours).toFixed(1)}x (add_files alone), ${(pyBoth / ours).toFixed(1)}x (with create_table, as ours), ` +
      `${(pyAdd / oursFirst).toFixed(1)}x (our first run against add_files alone); whole process ${(pyProcess / oursCli).toFixed(1)}x`,
  );
}

// Then on our last table: a rerun with nothing new, and 50 new files.
const last = optsFor(`events${repeat - 1}`);
t = performance.now();
const again = await addFiles(last);
row('rerun (no-op)', [performance.now() - t], again.footersRead, again.filesAdded);
for (let i = files; i < files + 50; i++) writeFile(i);
t = performance.now();
const inc = await addFiles(last);
row('incremental, +50 files', [performance.now() - t], inc.footersRead, inc.filesAdded);
await catalog.close();
