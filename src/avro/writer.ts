/**
 * Writing Avro container files: to a sink block by block, as a stream of chunks, or whole in
 * memory. Block boundaries follow a given sequence of record counts (a reader's, to reproduce a
 * file) or end at a size, like Avro's Java writer.
 */
import { randomBytes } from 'node:crypto';
import { concatBytes } from '../util/bytes.ts';
import { ByteWriter } from './binary.ts';
import { checkCodec, compressBlock, compressBlockAsync } from './codecs.ts';
import { type AvroEncoder, createEncoder } from './encode.ts';
import { type AvroHeaderInput, encodeHeader, SYNC_SIZE, utf8 } from './header.ts';
import { type AvroRecord, parseAvroSchema } from './schema.ts';

/**
 * Default uncompressed block size at which the writer ends a block: the sync interval of
 * Avro's Java `DataFileWriter`, so files written by Iceberg's Java writers get the same
 * block boundaries.
 */
export const DEFAULT_BLOCK_BYTES = 64000;

const textEncoder = new TextEncoder();

/** Options of the writer. */
export interface AvroWriterOptions {
  /** Codec of the output; default: the header's `avro.codec` (the entry is updated if different). */
  readonly codec?: string;
  /**
   * Record count of each block, in order (e.g. a reader's `blockRecordCounts`), to reproduce a
   * file's block boundaries. Once the sequence is used up, `blockRecords`/`blockBytes` apply.
   */
  readonly blockSizes?: readonly number[];
  /** Most records per block (default: no limit). */
  readonly blockRecords?: number;
  /** A block ends once its uncompressed data reaches this many bytes (default {@link DEFAULT_BLOCK_BYTES}). */
  readonly blockBytes?: number;
  /** Deflate level 0-9 (default 6, as Avro's Java writer uses). */
  readonly deflateLevel?: number;
  /** Zstandard level (default 3). */
  readonly zstdLevel?: number;
  /** Names the output in error messages. */
  readonly fileName?: string;
}

/** A container file writer. */
export interface AvroWriter {
  /**
   * Adds a record. Returns a promise when the record completed a block that is being handed to
   * the sink; await it (awaiting every call is simplest) to respect back-pressure.
   * @throws AvroValueError if the record does not fit the schema (the record is skipped).
   */
  write(record: AvroRecord): void | Promise<void>;
  /** Writes the last block (and the header, for a file without records) and waits for the sink. */
  close(): Promise<void>;
  /** Record count of each block written so far. */
  readonly blockRecordCounts: readonly number[];
  /** Bytes handed to the sink so far. */
  readonly bytesWritten: number;
}

/**
 * A record already encoded with the file's schema, its bytes written as they are, optionally with
 * the encoded string at `[start, end)` of them replaced by `value`: how a rewrite that changes one
 * field keeps the bytes of all the others.
 */
export class EncodedRecord {
  readonly bytes: Uint8Array;
  readonly replace: { readonly start: number; readonly end: number; readonly value: string } | undefined;
  constructor(bytes: Uint8Array, replace?: { start: number; end: number; value: string }) {
    this.bytes = bytes;
    this.replace = replace;
  }

  /** Writes the record's bytes (with the replacement) to `w`. */
  writeTo(w: ByteWriter): void {
    const r = this.replace;
    if (!r) w.writeRaw(this.bytes);
    else writeReplaced(w, this.bytes, r.start, r.end, r.value);
  }
}

/**
 * Writes `bytes` (one encoded record) to `w` with the encoded string at `[start, end)` replaced by
 * `value`: its length prefix and UTF-8 bytes, every other byte as it was.
 */
export function writeReplaced(
  w: ByteWriter,
  bytes: Uint8Array,
  start: number,
  end: number,
  value: string,
): void {
  w.writeRaw(bytes.subarray(0, start));
  w.writeString(value);
  w.writeRaw(bytes.subarray(end));
}

/**
 * A block already encoded and compressed with the output's schema and codec (e.g. on a worker
 * thread), framed as it is among the records of {@link encodeAvroStream}.
 */
export class CompressedBlock {
  readonly count: number;
  readonly data: Uint8Array;
  constructor(count: number, data: Uint8Array) {
    this.count = count;
    this.data = data;
  }
}

/**
 * `bytes` (one encoded record) with the encoded string at `[start, end)` replaced by `value`:
 * its length prefix and UTF-8 bytes, every other byte as it was.
 */
export function replaceEncodedString(
  bytes: Uint8Array,
  start: number,
  end: number,
  value: string,
): Uint8Array {
  const w = new ByteWriter(bytes.length + value.length * 3 + 10);
  writeReplaced(w, bytes, start, end, value);
  return w.toBytes();
}

/** The synchronous core of the writer: turns records into header and block bytes. */
class BlockEncoder {
  readonly blockRecordCounts: number[] = [];
  private readonly encoder: AvroEncoder;
  /** The codec of the output. */
  readonly codec: string;
  private readonly sync: Uint8Array;
  private readonly body = new ByteWriter(64 * 1024);
  private readonly frame = new ByteWriter(64 * 1024);
  private count = 0;
  private headerPending: Uint8Array | undefined;
  private readonly options: AvroWriterOptions;
  private readonly limitRecords: number;
  private readonly limitBytes: number;

  constructor(header: AvroHeaderInput, options: AvroWriterOptions) {
    this.options = options;
    const file = options.fileName ?? 'Avro output';
    let meta = header.meta;
    const metaCodec = utf8(meta.get('avro.codec')) ?? 'null';
    const codec = options.codec ?? metaCodec;
    checkCodec(codec, options.fileName);
    if (codec !== metaCodec) {
      // Replace the entry in place (same position); a null codec may simply be left absent.
      meta = new Map(meta);
      meta.set('avro.codec', textEncoder.encode(codec));
    }
    this.codec = codec;
    const schemaText = utf8(meta.get('avro.schema'));
    if (schemaText === undefined) throw new TypeError(`${file}: the header's metadata has no 'avro.schema'`);
    this.encoder = createEncoder(parseAvroSchema(JSON.parse(schemaText), file));
    this.sync = header.sync ?? new Uint8Array(randomBytes(SYNC_SIZE));
    if (this.sync.length !== SYNC_SIZE)
      throw new RangeError(`${file}: sync marker must be ${SYNC_SIZE} bytes`);
    this.headerPending = encodeHeader(meta, this.sync);
    this.limitRecords = options.blockRecords ?? Number.POSITIVE_INFINITY;
    this.limitBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  }

  /** Encodes a record; returns bytes to emit when it completed a block. */
  add(record: AvroRecord | EncodedRecord): Uint8Array | undefined {
    return this.encode(record) ? this.flush() : undefined;
  }

  /** Encodes a record into the block; true when that completed the block. */
  private encode(record: AvroRecord | EncodedRecord): boolean {
    const mark = this.body.length;
    try {
      if (record instanceof EncodedRecord) record.writeTo(this.body);
      else this.encoder(this.body, record);
    } catch (err) {
      // Drop the partial record so the block stays well-formed.
      this.body.length = mark;
      throw err;
    }
    this.count++;
    const sizes = this.options.blockSizes;
    const planned = sizes?.[this.blockRecordCounts.length];
    const full =
      planned !== undefined
        ? this.count >= planned
        : this.count >= this.limitRecords || this.body.length >= this.limitBytes;
    return full;
  }

  /** Bytes still to emit: the header if not yet emitted, and the last partial block. */
  finish(): Uint8Array | undefined {
    return this.count > 0 ? this.flush() : this.takeHeader();
  }

  private takeHeader(): Uint8Array | undefined {
    const h = this.headerPending;
    this.headerPending = undefined;
    return h;
  }

  private flush(): Uint8Array {
    const count = this.count;
    const data = compressBlock(this.codec, this.body.bytesView(), this.options);
    this.count = 0;
    this.body.reset();
    return this.frameBlock(count, data);
  }

  /**
   * Like {@link add}, but a completed block is not compressed here: it is returned, as a copy of
   * its encoded records, for the caller to compress (e.g. off the main thread) and give to
   * {@link frameBlock}, in order.
   */
  addRaw(record: AvroRecord | EncodedRecord): { count: number; raw: Uint8Array } | undefined {
    return this.encode(record) ? this.takeRaw() : undefined;
  }

  /** The last partial block's records (see {@link addRaw}), or nothing when none is pending. */
  finishRaw(): { count: number; raw: Uint8Array } | undefined {
    return this.count > 0 ? this.takeRaw() : undefined;
  }

  private takeRaw(): { count: number; raw: Uint8Array } {
    const block = { count: this.count, raw: this.body.toBytes() };
    this.count = 0;
    this.body.reset();
    return block;
  }

  /** The bytes of a block (the header before the first) from its compressed data. */
  frameBlock(count: number, data: Uint8Array): Uint8Array {
    const out = this.frame;
    out.reset();
    const h = this.takeHeader();
    if (h) out.writeRaw(h);
    out.writeCount(count);
    out.writeCount(data.length);
    out.writeRaw(data);
    out.writeRaw(this.sync);
    this.blockRecordCounts.push(count);
    return out.toBytes();
  }

  /** The header alone, when no block was framed yet (an empty file). */
  headerOnly(): Uint8Array | undefined {
    return this.takeHeader();
  }
}

/**
 * Creates a container writer. Given a reader's `header.meta` unchanged (and its `sync`), the
 * header is written byte for byte as read; with the reader's `blockRecordCounts` as
 * `blockSizes` and the same codec, an unchanged `null`-codec file re-encodes identically.
 * @param sink receives the file's bytes in order, one chunk per block; may return a promise.
 */
export function createAvroWriter(
  header: AvroHeaderInput,
  sink: (chunk: Uint8Array) => void | Promise<void>,
  options: AvroWriterOptions = {},
): AvroWriter {
  const enc = new BlockEncoder(header, options);
  let pending: Promise<void> = Promise.resolve();
  let written = 0;
  let closed = false;
  const emit = (chunk: Uint8Array): Promise<void> => {
    written += chunk.length;
    pending = pending.then(() => sink(chunk));
    return pending;
  };
  return {
    write(record) {
      if (closed) throw new Error(`${options.fileName ?? 'Avro writer'}: write after close`);
      const chunk = enc.add(record);
      return chunk ? emit(chunk) : undefined;
    },
    async close() {
      if (!closed) {
        closed = true;
        const chunk = enc.finish();
        if (chunk) emit(chunk);
      }
      await pending;
    },
    get blockRecordCounts() {
      return enc.blockRecordCounts;
    },
    get bytesWritten() {
      return written;
    },
  };
}

/** What {@link encodeAvroStream} takes: records, encoded records and blocks encoded elsewhere. */
export type AvroStreamItem = AvroRecord | EncodedRecord | CompressedBlock;

/**
 * Encodes a container file from a stream of records (or of arrays of them, a batch each) as a
 * stream of chunks (one per block), so a file of any size can be rewritten without holding it
 * whole. The bytes equal those of {@link encodeAvroFile} for the same records and options. A
 * {@link CompressedBlock} ends the block being filled and is framed as it is.
 */
export async function* encodeAvroStream(
  header: AvroHeaderInput,
  records: AsyncIterable<AvroStreamItem | readonly AvroStreamItem[]> | Iterable<AvroStreamItem>,
  options: AvroWriterOptions = {},
): AsyncGenerator<Uint8Array> {
  const enc = new BlockEncoder(header, options);
  const codec = enc.codec;
  // One block is compressed on the thread pool while the next is encoded; blocks are framed in
  // order as their compression completes.
  let pending: { count: number; data: Promise<Uint8Array> } | undefined;
  const start = (block: { count: number; raw: Uint8Array }) => {
    const data = compressBlockAsync(codec, block.raw, options);
    data.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    return { count: block.count, data };
  };
  for await (const item of records) {
    // An array is a batch of records (one await for many: a pass over a million entries).
    const batch = (Array.isArray(item) ? item : [item]) as readonly AvroStreamItem[];
    for (const rec of batch) {
      if (rec instanceof CompressedBlock) {
        const partial = enc.finishRaw();
        if (pending) yield enc.frameBlock(pending.count, await pending.data);
        pending = undefined;
        if (partial) yield enc.frameBlock(partial.count, await start(partial).data);
        yield enc.frameBlock(rec.count, rec.data);
        continue;
      }
      const block = enc.addRaw(rec);
      if (!block) continue;
      if (pending) yield enc.frameBlock(pending.count, await pending.data);
      pending = start(block);
    }
  }
  const last = enc.finishRaw();
  if (pending) yield enc.frameBlock(pending.count, await pending.data);
  if (last) yield enc.frameBlock(last.count, await start(last).data);
  else if (!pending) {
    const headerOnly = enc.headerOnly();
    if (headerOnly) yield headerOnly;
  }
}

/** Encodes a whole container file in memory (see {@link createAvroWriter} for the options). */
export function encodeAvroFile(
  header: AvroHeaderInput,
  records: Iterable<AvroRecord>,
  options: AvroWriterOptions = {},
): Uint8Array {
  const enc = new BlockEncoder(header, options);
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (c: Uint8Array | undefined) => {
    if (c) {
      parts.push(c);
      total += c.length;
    }
  };
  for (const rec of records) push(enc.add(rec));
  push(enc.finish());
  return concatBytes(parts, total);
}
