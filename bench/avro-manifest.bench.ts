/**
 * Benchmark of the Avro manifest codec (not a test): builds a synthetic Iceberg v2 manifest of
 * 100,000 entries (realistic `data_file` records with per-column stats and bounds maps), then
 * times decoding and decoding + re-encoding with the deflate and null codecs.
 *
 * Run: node bench/avro-manifest.bench.ts [entries] [columns]
 */
import { performance } from 'node:perf_hooks';
import {
  type AvroRecord,
  createAvroWriter,
  encodeAvroFile,
  openAvroContainer,
  readAvroFile,
} from '../src/avro/container.ts';
import { manifestEntrySchema } from './synthetic-table.ts';

const ENTRIES = Number(process.argv[2] ?? 100_000);
const COLUMNS = Number(process.argv[3] ?? 12);

const schema = manifestEntrySchema;

const enc = new TextEncoder();

function entry(i: number): AvroRecord {
  const ids = Array.from({ length: COLUMNS }, (_, c) => c + 1);
  const longMap = (f: (c: number) => bigint) => ids.map((key) => ({ key, value: f(key) }));
  const bound = (c: number, hi: boolean) => {
    const b = new Uint8Array(c % 3 === 0 ? 8 : 4 + (c % 5));
    new DataView(b.buffer).setUint32(0, hi ? i * 31 + c * 1000 : i * 7 + c, true);
    return b;
  };
  return {
    status: 1,
    snapshot_id: 8_272_972_260_788_580_730n,
    sequence_number: null,
    file_sequence_number: null,
    data_file: {
      content: 0,
      file_path: `s3://warehouse-primary/analytics/events/data/dt=2024-${String((i % 12) + 1).padStart(2, '0')}-01/region=eu-west-1/00${i % 1000}-${i}-5e791f63-c675-4124-8390-6bbce9e61755-00001.parquet`,
      file_format: 'PARQUET',
      partition: { dt: 19_700 + (i % 365), region: 'eu-west-1' },
      record_count: BigInt(100_000 + i),
      file_size_in_bytes: BigInt(50_000_000 + i * 13),
      column_sizes: longMap((c) => BigInt(1_000_000 + c * i)),
      value_counts: longMap(() => BigInt(100_000 + i)),
      null_value_counts: longMap((c) => BigInt(c % 4)),
      nan_value_counts: [],
      lower_bounds: ids.map((key) => ({ key, value: bound(key, false) })),
      upper_bounds: ids.map((key) => ({ key, value: bound(key, true) })),
      key_metadata: null,
      split_offsets: [4n, 67_108_868n],
      equality_ids: null,
      sort_order_id: 0,
      referenced_data_file: null,
    },
  };
}

function header(codec: string) {
  const meta = new Map<string, Uint8Array>([
    ['schema', enc.encode('{"type":"struct","schema-id":0,"fields":[]}')],
    ['avro.schema', enc.encode(JSON.stringify(schema))],
    ['avro.codec', enc.encode(codec)],
    ['format-version', enc.encode('2')],
    ['partition-spec-id', enc.encode('0')],
    ['partition-spec', enc.encode('[]')],
    ['content', enc.encode('data')],
  ]);
  return { meta };
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Best of `n` runs (the first warms the JIT). */
async function best(n: number, fn: () => Promise<number>): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) min = Math.min(min, await fn());
  return min;
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const rate = (ms: number) => `${Math.round(ENTRIES / (ms / 1000)).toLocaleString('en-US')} entries/s`;

console.log(
  `node ${process.version}, ${ENTRIES.toLocaleString('en-US')} entries, ${COLUMNS} columns of stats`,
);
for (const codec of ['deflate', 'null']) {
  // Entries are generated on the fly so the benchmark's own data does not weigh on the heap.
  const built = time(() =>
    encodeAvroFile(
      header(codec),
      (function* () {
        for (let i = 0; i < ENTRIES; i++) yield entry(i);
      })(),
    ),
  );
  const bytes = built.value;
  const decode = await best(3, async () => time(() => readAvroFile(bytes, 'bench.avro').records.length).ms);
  const roundTrip = await best(3, async () => {
    return time(() => {
      const file = readAvroFile(bytes, 'bench.avro');
      return encodeAvroFile(file.header, file.records, { blockSizes: file.blockRecordCounts });
    }).ms;
  });
  // The engine's path: block by block, never holding the whole manifest.
  const stream = await best(3, async () => {
    const r = await timeAsync(async () => {
      const reader = await openAvroContainer(chunks(bytes, 64 * 1024), 'bench.avro');
      let n = 0;
      for await (const block of reader.blocks()) n += block.records.length;
      return n;
    });
    return r.ms;
  });
  const streamRoundTrip = await best(3, async () => {
    const r = await timeAsync(async () => {
      const reader = await openAvroContainer(chunks(bytes, 64 * 1024), 'bench.avro');
      let written = 0;
      const writer = createAvroWriter(reader.header, (c) => {
        written += c.length;
      });
      for await (const block of reader.blocks()) for (const rec of block.records) await writer.write(rec);
      await writer.close();
      return written;
    });
    return r.ms;
  });
  console.log(
    `${codec.padEnd(8)} file ${(bytes.length / 1e6).toFixed(1)} MB | encode ${rate(built.ms)}\n` +
      `  whole file in memory: decode ${rate(decode)}, decode+encode ${rate(roundTrip)}\n` +
      `  streamed (64 KiB chunks): decode ${rate(stream)}, decode+encode ${rate(streamRoundTrip)}`,
  );
}
