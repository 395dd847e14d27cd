/**
 * The decoders under fuzz, each with its seed inputs and the property a mutated input must hold:
 *
 * - a failure is an error of ours (an IcebergSyncError subclass) whose message names the file,
 *   and a CorruptFileError's `file` is that file: never a TypeError, RangeError or other crash;
 * - a success is consistent: what decoded re-encodes and decodes to the same thing, the two
 *   ways of reading a format agree, and where the format protects its bytes (gzip's CRC, the
 *   snappy block CRC of Avro, the Avro header kept byte for byte) a mutation there is either
 *   refused or leaves the decoded content as it was. What a format does not protect (a digit of
 *   a path in an uncompressed block) can change silently in any reader; the properties say
 *   which changes must be caught.
 *
 * Hangs are caught by the runner (run.ts), which watches each case from outside the worker.
 *
 * Seeds: the golden corpus (always), variants of it made here (other codecs, gzip), and, when
 * the shared Impala fixtures are present, a sample of their small files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { decompressBlock } from '../../src/avro/codecs.ts';
import {
  type AvroFrame,
  AvroSpan,
  encodeAvroFile,
  openAvroContainer,
  readAvroFile,
} from '../../src/avro/container.ts';
import { replaceEncodedString } from '../../src/avro/writer.ts';
import { CorruptFileError, IcebergSyncError } from '../../src/errors.ts';
import {
  type ManifestFile,
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
  writeAvroLike,
} from '../../src/iceberg/manifest-codec.ts';
import { type AvroRecordValue, contentOf, longOf } from '../../src/iceberg/manifest-views.ts';
import { decodeMetadata, encodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { decodeParquetFooter, readParquetFooter, readParquetFooterBytes } from '../../src/parquet/footer.ts';
import { FILE_PATH_FIELD_ID, rewritePositionDeleteFile } from '../../src/parquet/position-deletes.ts';
import { decodePuffinFooter, readPuffinFooter, rewritePuffinFooter } from '../../src/puffin/puffin.ts';
import { bytesRangeReader } from '../../src/storage/storage.ts';
import { blockRewriter, PASS_FIELDS, rewriteBlocks } from '../../src/sync/block-rewrite.ts';
import { PathMapper } from '../../src/table/path-mapping.ts';
import { jsonEquals } from '../../src/util/json.ts';
import { impalaFixtures, repoRoot, walk } from '../helpers/paths.ts';
import {
  applyByteMutations,
  applyJsonMutations,
  type ByteMutation,
  byteMutations,
  type JsonMutation,
  jsonMutations,
} from './mutate.ts';

/** One seed input. */
export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Set for seeds whose content is protected by a checksum (see each target). */
  readonly tag?: string;
}

/** A mutation plan: byte mutations, or (for JSON formats) structural ones. */
export type Plan =
  | { readonly kind: 'bytes'; readonly ms: ByteMutation[] }
  | { readonly kind: 'json'; readonly ms: JsonMutation[] };

/** How a case ended when it kept the property. */
export type Outcome = 'decoded' | 'refused';

/** A decoder under fuzz. */
export interface Target {
  readonly name: string;
  /** The seeds, with a note on where they came from. */
  seeds(): Seed[];
  /** How inputs are mutated. */
  readonly plans: fc.Arbitrary<Plan>;
  /** Applies a plan to a seed. */
  mutate(seed: Seed, plan: Plan): Uint8Array;
  /** Decodes `bytes` (a mutation of `seed`) and checks the property; throws when it fails. */
  /** Resolves with whether the mutated input decoded (`decoded`) or was refused with a typed error. */
  check(bytes: Uint8Array, seed: Seed, file: string, plan: Plan): Promise<Outcome>;
}

const GOLDEN = path.join(repoRoot, 'test', 'golden');
const golden = (name: string): Seed => ({
  name,
  bytes: new Uint8Array(readFileSync(path.join(GOLDEN, name))),
});

/** Up to `limit` fixture files matching `pred`, smallest first (none without the fixtures). */
function fixtureSeeds(pred: (p: string) => boolean, limit: number, maxBytes = 64 * 1024): Seed[] {
  if (!existsSync(impalaFixtures)) return [];
  return walk(impalaFixtures, pred)
    .map((p) => ({ p, size: statSync(p).size }))
    .filter((f) => f.size <= maxBytes)
    .sort((a, b) => a.size - b.size || (a.p < b.p ? -1 : 1))
    .filter((_, i, all) => i % Math.max(1, Math.floor(all.length / limit)) === 0)
    .slice(0, limit)
    .map(({ p }) => ({ name: path.relative(impalaFixtures, p), bytes: new Uint8Array(readFileSync(p)) }));
}

const bytePlans: fc.Arbitrary<Plan> = byteMutations.map((ms) => ({ kind: 'bytes' as const, ms }));
const jsonPlans: fc.Arbitrary<Plan> = jsonMutations.map((ms) => ({ kind: 'json' as const, ms }));
const byteOrJsonPlans: fc.Arbitrary<Plan> = fc.oneof(bytePlans, jsonPlans);

/** Thrown when a case breaks the property (as opposed to a typed decode failure). */
export class PropertyViolation extends Error {}

/** Checks that `err` is a decode failure of ours naming `file`; otherwise reports it. */
export function assertTypedFailure(err: unknown, file: string): void {
  if (err instanceof PropertyViolation || err instanceof assert.AssertionError) throw err;
  if (!(err instanceof IcebergSyncError)) {
    const e = err as Error;
    throw new PropertyViolation(`crash, not a typed error: ${e?.name}: ${e?.message}\n${e?.stack ?? ''}`);
  }
  if (!err.message.includes(file))
    throw new PropertyViolation(`error does not name the file: ${err.message}`);
  if (err instanceof CorruptFileError && err.file !== file) {
    throw new PropertyViolation(`CorruptFileError.file is '${err.file}', not '${file}'`);
  }
}

/** Runs `decode`; a typed failure ends the case, a success goes on to `then`. */
async function decodeThen<T>(
  file: string,
  decode: () => Promise<T> | T,
  then: (v: T) => Promise<void> | void,
): Promise<Outcome> {
  let value: T;
  try {
    value = await decode();
  } catch (err) {
    assertTypedFailure(err, file);
    return 'refused';
  }
  try {
    await then(value);
  } catch (err) {
    // Re-decoding our own output must not fail at all; a typed error there is a violation too.
    if (err instanceof PropertyViolation || err instanceof assert.AssertionError) throw err;
    throw new PropertyViolation(`consistency check failed: ${(err as Error).stack ?? err}`);
  }
  return 'decoded';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

// ---------------------------------------------------------------------------------------------
// metadata.json

const metadataTarget: Target = {
  name: 'metadata.json',
  seeds() {
    const plain = [golden('v2.metadata.json'), ...fixtureSeeds((p) => p.endsWith('.metadata.json'), 12)];
    // gzip seeds: the CRC-32 and length in gzip's trailer protect the content.
    const gz = plain
      .slice(0, 3)
      .map((s) => ({ name: `${s.name}.gz`, bytes: new Uint8Array(gzipSync(s.bytes)), tag: 'gzip' }));
    return [...plain, ...gz];
  },
  plans: byteOrJsonPlans,
  mutate(seed, plan) {
    if (plan.kind === 'bytes') return applyByteMutations(seed.bytes, plan.ms);
    if (seed.tag === 'gzip') {
      const text = new TextDecoder().decode(gunzipSync(seed.bytes));
      return new Uint8Array(gzipSync(new TextEncoder().encode(applyJsonMutations(text, plan.ms))));
    }
    return new TextEncoder().encode(applyJsonMutations(new TextDecoder().decode(seed.bytes), plan.ms));
  },
  async check(bytes, seed, file, plan) {
    return decodeThen(
      file,
      () => decodeMetadata(bytes, file),
      (doc) => {
        // Re-encoded, the document decodes to the same JSON and the same typed view.
        const again = decodeMetadata(encodeMetadata(doc.json, { gzip: doc.gzip, pretty: doc.pretty }), file);
        assert.ok(jsonEquals(again.json, doc.json), 're-encoded metadata JSON differs');
        assert.deepEqual(again.metadata, doc.metadata, 're-encoded metadata view differs');
        // The view says what the JSON says.
        const snaps = doc.json.snapshots;
        assert.equal(doc.metadata.snapshots.length, Array.isArray(snaps) ? snaps.length : 0);
        assert.equal(Object.getPrototypeOf(doc.metadata.refs), Object.prototype, 'refs lost its prototype');
        assert.equal(
          Object.getPrototypeOf(doc.metadata.properties),
          Object.prototype,
          'properties lost its prototype',
        );
        if (seed.tag === 'gzip' && plan.kind === 'bytes' && doc.gzip) {
          const original = decodeMetadata(seed.bytes, seed.name);
          assert.ok(
            jsonEquals(doc.json, original.json),
            'a gzip-protected mutation decoded to different JSON',
          );
        }
      },
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Avro object container files

/** Golden Avro files re-encoded with each codec, so every decompressor is fuzzed. */
function avroSeeds(): Seed[] {
  const base = [golden('manifest.avro'), golden('snap-manifest-list.avro')];
  const variants: Seed[] = [];
  for (const s of base) {
    const f = readAvroFile(s.bytes, s.name);
    for (const codec of ['null', 'snappy', 'zstandard', 'deflate']) {
      variants.push({
        name: `${s.name}.${codec}`,
        bytes: encodeAvroFile({ meta: f.header.meta, sync: f.header.sync }, f.records, {
          codec,
          blockRecords: 1,
        }),
        tag: codec,
      });
    }
  }
  return [...base, ...variants, ...fixtureSeeds((p) => p.endsWith('.avro'), 12, 32 * 1024)];
}

const avroTarget: Target = {
  name: 'avro container',
  seeds: avroSeeds,
  plans: bytePlans,
  mutate: (seed, plan) => applyByteMutations(seed.bytes, (plan as { ms: ByteMutation[] }).ms),
  async check(bytes, seed, file) {
    // The in-memory reader and the streaming reader (odd chunk sizes) must agree.
    let whole: ReturnType<typeof readAvroFile> | undefined;
    let wholeErr: unknown;
    try {
      whole = readAvroFile(bytes, file);
    } catch (err) {
      assertTypedFailure(err, file);
      wholeErr = err;
    }
    let streamed: { records: unknown[]; counts: readonly number[]; header: Uint8Array } | undefined;
    try {
      const reader = await openAvroContainer(chunked(bytes, 97), file);
      const records: unknown[] = [];
      for await (const r of reader.records()) records.push(r);
      streamed = { records, counts: reader.blockRecordCounts, header: reader.header.bytes };
    } catch (err) {
      assertTypedFailure(err, file);
      if (!wholeErr)
        throw new PropertyViolation(
          `the streaming reader failed where the whole-file reader did not: ${(err as Error).message}`,
        );
      return 'refused';
    }
    if (!whole)
      throw new PropertyViolation(
        `the whole-file reader failed where the streaming reader did not: ${(wholeErr as Error).message}`,
      );
    assert.deepEqual(streamed.records, whole.records, 'streaming and whole-file readers disagree');
    assert.deepEqual([...streamed.counts], whole.blockRecordCounts);
    assert.ok(sameBytes(streamed.header, whole.header.bytes));

    // Re-encoded with the same header, sync marker and block layout, it decodes the same.
    const again = readAvroFile(
      encodeAvroFile({ meta: whole.header.meta, sync: whole.header.sync }, whole.records, {
        blockSizes: whole.blockRecordCounts,
      }),
      file,
    );
    assert.deepEqual(again.records, whole.records, 're-encoded records differ');
    assert.deepEqual(again.blockRecordCounts, whole.blockRecordCounts);

    // Snappy blocks carry a CRC of their data: with the header intact, a mutation that still
    // decodes must decode to the original records.
    if (seed.tag === 'snappy') {
      const original = readAvroFile(seed.bytes, seed.name);
      if (sameBytes(whole.header.bytes, original.header.bytes)) {
        // Avro has no end marker: a file cut at a block boundary reads as fewer blocks (the
        // manifest list's manifest_length is what catches that, one level up).
        const cut =
          bytes.length < seed.bytes.length && sameBytes(bytes, seed.bytes.subarray(0, bytes.length));
        const expected = cut ? original.records.slice(0, whole.records.length) : original.records;
        assert.deepEqual(
          whole.records,
          expected,
          'a CRC-protected snappy block decoded to different records',
        );
      }
    }
    return 'decoded';
  },
};

// ---------------------------------------------------------------------------------------------
// Manifests and manifest lists

const manifestTarget: Target = {
  name: 'manifest codec',
  seeds: () => [
    golden('manifest.avro'),
    golden('snap-manifest-list.avro'),
    ...fixtureSeeds((p) => /metadata\/[^/]+\.avro$/.test(p), 12, 32 * 1024),
  ],
  plans: bytePlans,
  mutate: (seed, plan) => applyByteMutations(seed.bytes, (plan as { ms: ByteMutation[] }).ms),
  async check(bytes, seed, file) {
    const isList = path.basename(seed.name).startsWith('snap-');
    return decodeThen(
      file,
      async () => {
        if (isList) {
          const f = await readManifestList(bytes, file);
          return { f, views: f.records.map((r) => manifestFileView(r, file)) };
        }
        const f = await readManifest(bytes, file);
        return { f, views: f.records.map((r) => manifestEntryView(r, file)) };
      },
      async ({ f, views }) => {
        // Rewritten as the sync engine does (source header, block layout), it reads back the same.
        const parts: Uint8Array[] = [];
        await writeAvroLike(f.header, f.records, (c) => void parts.push(c), {
          blockSizes: f.blockRecordCounts,
        });
        const out = Buffer.concat(parts);
        const again = isList ? await readManifestList(out, file) : await readManifest(out, file);
        assert.deepEqual(again.records, f.records);
        assert.equal(again.formatVersion, f.formatVersion);
        if (!isList) assert.equal((again as ManifestFile).content, (f as ManifestFile).content);
        assert.equal(views.length, f.records.length);
      },
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Manifest blocks rewritten without decoding them (sync/block-rewrite.ts)

/**
 * What the entry-by-entry path makes of a block: each entry with its path mapped and every other
 * byte kept, and the live entries' paths and sizes; `slow` where it would not copy the block
 * (position deletes, deletion vectors, sizes beyond 2^53), as the fast path must answer too.
 */
function rewrittenByDecoder(
  reader: Awaited<ReturnType<typeof openAvroContainer>>,
  frame: AvroFrame,
  mapper: PathMapper,
) {
  const raw: Uint8Array[] = [];
  const paths: string[] = [];
  const sizes: number[] = [];
  let slow = false;
  for (const { record, bytes, offset } of reader.decodeFrame(frame)) {
    const df = record.data_file as AvroRecordValue | undefined;
    // Not a manifest entry's shape (a mutated schema): the fast path must leave it.
    if (!df || !(df.file_path instanceof AvroSpan))
      return { slow: true, raw: new Uint8Array(), paths, sizes };
    const span = df.file_path;
    const ref = df.referenced_data_file;
    const size = longOf(df.file_size_in_bytes);
    if (
      contentOf(df) === 1 ||
      (ref !== null && ref !== undefined) ||
      (size !== undefined && (size < 0n || size > BigInt(Number.MAX_SAFE_INTEGER)))
    )
      slow = true;
    const mapped = mapper.map(String(span.value));
    raw.push(replaceEncodedString(bytes, span.start - offset, span.end - offset, mapped));
    if (Number(record.status) !== 2) {
      paths.push(mapped);
      sizes.push(size === undefined ? Number.NaN : Number(size));
    }
  }
  return { slow, raw: Buffer.concat(raw), paths, sizes };
}

const blockRewriteTarget: Target = {
  name: 'manifest block rewrite',
  seeds: () => {
    // The golden manifest holds position deletes, whose blocks are left to the slow path: also
    // one block per entry, so that its data entries' blocks take the fast one.
    const m = golden('manifest.avro');
    const f = readAvroFile(m.bytes, m.name);
    const perEntry = encodeAvroFile({ meta: f.header.meta, sync: f.header.sync }, f.records, {
      codec: 'deflate',
      blockRecords: 1,
    });
    return [
      m,
      { name: 'manifest.avro.per-entry', bytes: perEntry },
      ...fixtureSeeds((p) => /metadata\/[^/]+-m\d+\.avro$/.test(p), 8, 32 * 1024),
    ];
  },
  plans: bytePlans,
  mutate: (seed, plan) => applyByteMutations(seed.bytes, (plan as { ms: ByteMutation[] }).ms),
  async check(bytes, _seed, file) {
    let reader: Awaited<ReturnType<typeof openAvroContainer>>;
    const frames: AvroFrame[] = [];
    try {
      reader = await openAvroContainer(chunked(bytes, 4096), file, { projection: PASS_FIELDS });
      for await (const f of reader.frames()) frames.push(f);
    } catch (err) {
      assertTypedFailure(err, file);
      return 'refused';
    }
    // Every path mapped below a new root (or, outside it, kept), so both ways take their fast paths.
    const rules = [
      { source: 'hdfs://prod-nn/warehouse', target: '/dr/warehouse' },
      { source: '/', target: '/dr' },
    ];
    const setup = {
      schema: new TextDecoder().decode(reader.header.meta.get('avro.schema') ?? new Uint8Array()),
      codec: reader.header.codec,
      deflateLevel: 1,
      rules,
      allowUnmapped: true,
      file,
    };
    const rw = blockRewriter(setup, { schema: reader.header.schema });
    let fast = 0;
    for (const frame of frames) {
      const r = rewriteBlocks(rw, { frames: [frame], check: true, copy: true });
      // Checking only, it must find the same paths, or leave the block as well.
      const checking = rewriteBlocks(rw, { frames: [frame], check: true, copy: false });
      if (!r.slow && !checking.slow) {
        assert.ok(sameBytes(checking.paths, r.paths), 'checking only found other paths');
        assert.deepEqual([...checking.sizes], [...r.sizes]);
      }
      if (r.slow !== checking.slow && !r.slow)
        throw new PropertyViolation('a block rewritten whole was left when only checked');
      let expected: ReturnType<typeof rewrittenByDecoder>;
      try {
        expected = rewrittenByDecoder(reader, frame, new PathMapper(rules, { allowUnmapped: true }));
      } catch (err) {
        if (!(err instanceof IcebergSyncError)) assertTypedFailure(err, file);
        if (!r.slow)
          throw new PropertyViolation(`a block the decoder refuses was rewritten: ${(err as Error).message}`);
        continue;
      }
      if (r.slow) continue; // always allowed: the caller then does the block entry by entry
      if (expected.slow)
        throw new PropertyViolation('a block with entries the fast path must leave was rewritten');
      fast++;
      const data = decompressBlock(setup.codec, r.block!.data, frame.index, file);
      assert.ok(sameBytes(data, expected.raw), 'the rewritten block differs from the entry-by-entry copy');
      assert.deepEqual(
        new TextDecoder()
          .decode(r.paths)
          .split('\0')
          .filter((_, i) => i < r.sizes.length),
        expected.paths,
      );
      assert.deepEqual([...r.sizes], expected.sizes);
    }
    return fast > 0 ? 'decoded' : 'refused';
  },
};

// ---------------------------------------------------------------------------------------------
// Parquet footers

const footerTarget: Target = {
  name: 'parquet footer',
  seeds: () => [
    golden('position-deletes.parquet'),
    ...fixtureSeeds((p) => /\.(parquet|parq)$/.test(p), 10, 24 * 1024),
  ],
  plans: bytePlans,
  mutate: (seed, plan) => applyByteMutations(seed.bytes, (plan as { ms: ByteMutation[] }).ms),
  async check(bytes, seed, file) {
    return decodeThen(
      file,
      () => readParquetFooter(bytesRangeReader(bytes), file),
      async (footer) => {
        // Everything the footer points at lies between the leading magic and the footer.
        const footerStart = bytes.length - 8 - footer.metadataLength;
        for (const rg of footer.rowGroups) {
          for (const c of rg.columns) {
            assert.ok(
              c.startOffset >= 4 && c.startOffset + c.totalCompressedSize <= footerStart,
              `column chunk ${c.path.join('.')} outside the data area`,
            );
          }
        }
        assert.ok(
          footer.splitOffsets.every((o, i, all) => i === 0 || all[i - 1]! <= o),
          'split offsets not sorted',
        );
        assert.equal(
          footer.rowGroups.reduce((n, rg) => n + rg.rowCount, 0n),
          footer.rowCount,
          'row groups do not add up to the file row count',
        );
        // The same bytes decode the same way again (no state kept between decodes).
        const metadataBytes = await readParquetFooterBytes(bytesRangeReader(bytes), file);
        const again = decodeParquetFooter(metadataBytes, bytes.length, file);
        assert.deepEqual(again.rowGroups, footer.rowGroups);
        assert.deepEqual(again.schema, footer.schema);
        // A mutation that left the footer bytes alone leaves the decoded footer as it was.
        const seedMeta = await readParquetFooterBytes(bytesRangeReader(seed.bytes), seed.name);
        if (bytes.length === seed.bytes.length && sameBytes(metadataBytes, seedMeta)) {
          const original = decodeParquetFooter(seedMeta, seed.bytes.length, seed.name);
          assert.deepEqual(footer.rowGroups, original.rowGroups);
        }
      },
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Position-delete files

const FROM = 'hdfs://';
const mapPath = (p: string) => (p.startsWith(FROM) ? `/dr/${p.slice(FROM.length)}` : `/dr/other/${p}`);

/** The file_path column as hyparquet (an independent reader) reads it. */
async function readFilePaths(bytes: Uint8Array): Promise<unknown[]> {
  let rows: unknown[][] = [];
  const footer = await readParquetFooter(bytesRangeReader(bytes), 'x');
  const leaf = footer.schema.find((e) => e.fieldId === FILE_PATH_FIELD_ID)!;
  await parquetRead({
    file: bytes.slice().buffer,
    columns: [leaf.name],
    compressors,
    utf8: true,
    onComplete: (r: unknown[][]) => {
      rows = r;
    },
  });
  return rows.map((r) => r[0] ?? null);
}

/** Whether a (valid) Parquet file has the position-delete file_path column. */
function isPositionDeleteFile(bytes: Uint8Array): boolean {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    bytes.length - 8,
    true,
  );
  const footer = decodeParquetFooter(
    bytes.subarray(bytes.length - 8 - length, bytes.length - 8),
    bytes.length,
    'seed',
  );
  return footer.schema.some((e) => e.fieldId === FILE_PATH_FIELD_ID);
}

const positionDeleteTarget: Target = {
  name: 'position-delete file',
  seeds: () => {
    const out = [golden('position-deletes.parquet')];
    for (const s of fixtureSeeds((p) => /\.(parquet|parq)$/.test(p), 1000, 32 * 1024)) {
      if (out.length < 10 && isPositionDeleteFile(s.bytes)) out.push(s);
    }
    return out;
  },
  plans: bytePlans,
  mutate: (seed, plan) => applyByteMutations(seed.bytes, (plan as { ms: ByteMutation[] }).ms),
  async check(bytes, _seed, file) {
    return decodeThen(
      file,
      () => rewritePositionDeleteFile(bytes, mapPath, file),
      async (result) => {
        // The output is a Parquet file whose paths are the input's paths, mapped, row for row.
        const before = await readFilePaths(bytes).catch(() => undefined);
        const after = await readFilePaths(result.bytes);
        if (before !== undefined) {
          assert.deepEqual(
            after,
            before.map((p) => (typeof p === 'string' ? mapPath(p) : p)),
            'rewritten paths are not the mapped input paths',
          );
        }
        const footer = await readParquetFooter(bytesRangeReader(result.bytes), file);
        assert.equal(footer.rowCount, result.rowCount);
        // Nothing to map: the input comes back untouched.
        const same = await rewritePositionDeleteFile(bytes, (p) => p, file);
        assert.equal(same.changed, false);
        assert.equal(same.bytes, bytes);
      },
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Puffin footers

/** Rebuilds a Puffin file around a new footer payload (valid framing, so the JSON is what is fuzzed). */
function withPayload(bytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(
    bytes.length - 12,
    true,
  );
  const footerStart = bytes.length - 12 - size - 4;
  const out = new Uint8Array(footerStart + 4 + payload.length + 12);
  out.set(bytes.subarray(0, footerStart + 4));
  out.set(payload, footerStart + 4);
  const view = new DataView(out.buffer);
  view.setInt32(footerStart + 4 + payload.length, payload.length, true);
  out.set(bytes.subarray(bytes.length - 8), footerStart + 4 + payload.length + 4);
  return out;
}

const puffinTarget: Target = {
  name: 'puffin footer',
  seeds: () => [golden('deletion-vector.puffin'), ...fixtureSeeds((p) => /\.(puffin|stats)$/.test(p), 4)],
  plans: byteOrJsonPlans,
  mutate(seed, plan) {
    if (plan.kind === 'bytes') return applyByteMutations(seed.bytes, plan.ms);
    const footer = decodePuffinFooter(seed.bytes, seed.name);
    const text = new TextDecoder().decode(
      seed.bytes.subarray(footer.footerStart + 4, seed.bytes.length - 12),
    );
    return withPayload(seed.bytes, new TextEncoder().encode(applyJsonMutations(text, plan.ms)));
  },
  async check(bytes, _seed, file) {
    return decodeThen(
      file,
      () => decodePuffinFooter(bytes, file),
      async (footer) => {
        // The range reader and the in-memory decoder agree.
        const ranged = await readPuffinFooter(bytesRangeReader(bytes), file);
        assert.deepEqual(ranged, footer);
        // A rewrite changes exactly the properties asked for, and nothing else.
        const transform = (b: { properties: Readonly<Record<string, string>> }) => ({
          ...b.properties,
          'referenced-data-file': `/dr/${b.properties['referenced-data-file'] ?? 'none'}`,
        });
        let out: Uint8Array;
        try {
          out = rewritePuffinFooter(bytes, transform, file).bytes;
        } catch (err) {
          // The rewrite may refuse what it cannot edit safely, with a typed error.
          assertTypedFailure(err, file);
          return;
        }
        const after = decodePuffinFooter(out, file);
        assert.ok(
          sameBytes(out.subarray(0, footer.footerStart), bytes.subarray(0, footer.footerStart)),
          'blob bytes changed',
        );
        assert.deepEqual(
          after.blobs,
          footer.blobs.map((b) => ({ ...b, properties: transform(b) })),
          'the rewritten footer is not the requested edit',
        );
        assert.deepEqual(after.properties, footer.properties);
      },
    );
  },
};

/** Every target, by name. */
export const TARGETS: readonly Target[] = [
  metadataTarget,
  avroTarget,
  manifestTarget,
  blockRewriteTarget,
  footerTarget,
  positionDeleteTarget,
  puffinTarget,
];
