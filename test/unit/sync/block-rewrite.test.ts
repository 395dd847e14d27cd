import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type AvroFrame,
  CompressedBlock,
  encodeAvroFile,
  encodeAvroStream,
  openAvroContainer,
  readAvroFile,
} from '../../../src/avro/container.ts';
import {
  type BlockRewriteResult,
  type BlockRewriteSetup,
  blockRewriter,
  rewriteBlocks,
} from '../../../src/sync/block-rewrite.ts';
import { RewriteWorkers } from '../../../src/sync/rewrite-workers.ts';

// The fields a manifest pass reads, in a manifest entry's shape (the rest of an entry is kept as bytes).
const SCHEMA = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int' },
    {
      name: 'data_file',
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int' },
          { name: 'file_path', type: 'string' },
          { name: 'file_size_in_bytes', type: 'long' },
          { name: 'other', type: 'string' },
          { name: 'referenced_data_file', type: ['null', 'string'], default: null },
        ],
      },
    },
  ],
};
const meta = () =>
  new Map([
    ['avro.schema', new TextEncoder().encode(JSON.stringify(SCHEMA))],
    ['avro.codec', new TextEncoder().encode('deflate')],
  ]);
const SYNC = new Uint8Array(16).fill(7);

function entry(i: number, over: { content?: number; status?: number; ref?: string } = {}) {
  return {
    status: over.status ?? 1,
    data_file: {
      content: over.content ?? 0,
      file_path: `/src/wh/t/data/p=${i % 3}/f-${i}.parquet`,
      file_size_in_bytes: BigInt(1000 + i),
      other: `kept ${i}`,
      referenced_data_file: over.ref ?? null,
    },
  };
}

async function framesOf(records: ReturnType<typeof entry>[]) {
  const bytes = encodeAvroFile({ meta: meta(), sync: SYNC }, records, { blockRecords: 5 });
  const reader = await openAvroContainer(
    (async function* () {
      yield bytes;
    })(),
    'm.avro',
  );
  const frames: AvroFrame[] = [];
  for await (const f of reader.frames()) frames.push(f);
  return { reader, frames };
}

const setup: BlockRewriteSetup = {
  schema: JSON.stringify(SCHEMA),
  codec: 'deflate',
  deflateLevel: 1,
  rules: [{ source: '/src/wh', target: '/dr/wh' }],
  allowUnmapped: false,
  file: 'm.avro',
};

describe('rewriteBlocks', () => {
  it('maps every path, keeps every other byte, and collects the live entries to check', async () => {
    const records = Array.from({ length: 12 }, (_, i) => entry(i, { status: i === 4 ? 2 : 1 }));
    const { reader, frames } = await framesOf(records);
    const r = rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: true });
    assert.equal(r.slow, false);
    if (r.slow) return;
    // The block framed among records decodes to the input with the paths mapped.
    const chunks: Uint8Array[] = [];
    for await (const c of encodeAvroStream(reader.header, [
      new CompressedBlock(r.block!.count, r.block!.data),
    ]))
      chunks.push(c);
    const out = readAvroFile(Buffer.concat(chunks), 'out.avro');
    const expected = records.map((e) => ({
      ...e,
      data_file: { ...e.data_file, file_path: e.data_file.file_path.replace('/src/wh', '/dr/wh') },
    }));
    assert.deepEqual(out.records, expected);
    // Live entries only (entry 4 is DELETED), with their sizes, and each directory once.
    const live = expected.filter((e) => e.status !== 2);
    assert.deepEqual(
      new TextDecoder().decode(r.paths).split('\0'),
      live.map((e) => e.data_file.file_path),
    );
    assert.deepEqual(
      [...r.sizes],
      live.map((e) => Number(e.data_file.file_size_in_bytes)),
    );
    assert.deepEqual([...r.dirs].sort(), ['/dr/wh/t/data/p=0', '/dr/wh/t/data/p=1', '/dr/wh/t/data/p=2']);
  });

  it('answers slow for a position delete, a deletion vector and a path outside the mapping', async () => {
    for (const odd of [entry(3, { content: 1 }), entry(3, { content: 1, ref: '/src/wh/t/data/x.parquet' })]) {
      const { frames } = await framesOf([entry(1), odd, entry(2)]);
      assert.deepEqual(rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: true }), {
        slow: true,
      });
    }
    const outside = { ...entry(5), data_file: { ...entry(5).data_file, file_path: '/elsewhere/f.parquet' } };
    const { frames } = await framesOf([entry(1), outside]);
    assert.deepEqual(rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: true }), {
      slow: true,
    });
  });

  it('copies names that are not ASCII as they are, and leaves odd names and stray bytes to the slow path', async () => {
    const named = (i: number, name: string) => ({
      ...entry(i),
      data_file: { ...entry(i).data_file, file_path: `/src/wh/t/data/p=${i % 2}/${name}` },
    });
    const records = [
      named(0, 'é-0.parquet'),
      named(1, '数据-1.parquet'),
      named(2, 'f 2.parquet'),
      named(3, '😀.parquet'),
    ];
    const { frames } = await framesOf(records);
    const r = rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: false });
    assert.equal(r.slow, false);
    if (!r.slow)
      assert.deepEqual(
        new TextDecoder().decode(r.paths).split('\0'),
        records.map((e) => e.data_file.file_path.replace('/src/wh', '/dr/wh')),
      );
    for (const odd of ['..', '.']) {
      const { frames } = await framesOf([named(0, 'a.parquet'), named(2, odd)]);
      assert.deepEqual(rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: true }), {
        slow: true,
      });
    }
    // A NUL cannot travel among the collected paths; bytes after the last entry are corrupt.
    const { frames: nul } = await framesOf([named(0, 'a.parquet'), named(2, 'a\0b')]);
    assert.deepEqual(rewriteBlocks(blockRewriter(setup), { frames: nul, check: true, copy: true }), {
      slow: true,
    });
    const { frames: ok } = await framesOf([entry(1)]);
    const raw = new Uint8Array(inflateRawSync(ok[0]!.data));
    const stray = { ...ok[0]!, data: new Uint8Array(deflateRawSync(Buffer.concat([raw, Uint8Array.of(0)]))) };
    assert.equal(rewriteBlocks(blockRewriter(setup), { frames: ok, check: true, copy: true }).slow, false);
    assert.deepEqual(rewriteBlocks(blockRewriter(setup), { frames: [stray], check: true, copy: true }), {
      slow: true,
    });
  });

  it('answers slow for a corrupt block, whose error the caller then raises', async () => {
    const { frames } = await framesOf([entry(1), entry(2)]);
    const bad = frames.map((f) => ({ ...f, data: f.data.map(() => 0xff) }));
    assert.deepEqual(rewriteBlocks(blockRewriter(setup), { frames: bad, check: true, copy: false }), {
      slow: true,
    });
  });
});

/** A result with its block's bytes as a plain array (a worker's arrive as Uint8Array, zlib's are Buffers). */
const plain = (r: BlockRewriteResult | undefined) =>
  r && !r.slow && r.block ? { ...r, block: { count: r.block.count, data: [...r.block.data] } } : r;

describe('RewriteWorkers', () => {
  it('answers exactly as the caller would itself, once started, and leaves the frames usable', async () => {
    const records = Array.from({ length: 40 }, (_, i) => entry(i));
    const { frames } = await framesOf(records);
    const workers = new RewriteWorkers(2);
    try {
      const here = rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: true });
      let answered: Awaited<ReturnType<RewriteWorkers['run']>>;
      // Not started (and then not online) at first: "not now", for the caller to do the task itself.
      for (let i = 0; ; i++) {
        answered = await workers.run(setup, { frames, check: true, copy: true });
        if (answered) break;
        assert.ok(i < 2000, 'the workers never came online');
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.deepEqual(plain(answered), plain(here));
      const slow = await workers.run(setup, {
        frames: [{ ...frames[0]!, data: new Uint8Array(3) }],
        check: true,
        copy: true,
      });
      assert.deepEqual(slow, { slow: true });
      // The caller's frames were copied, not moved.
      assert.deepEqual(
        plain(rewriteBlocks(blockRewriter(setup), { frames, check: true, copy: true })),
        plain(here),
      );
    } finally {
      await workers.close();
    }
  });

  it('never starts on a single core', async () => {
    const { frames } = await framesOf([entry(1)]);
    const workers = new RewriteWorkers(1);
    for (let i = 0; i < 20; i++)
      assert.equal(await workers.run(setup, { frames, check: true, copy: true }), undefined);
    await workers.close();
  });
});
