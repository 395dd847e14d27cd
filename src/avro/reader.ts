/**
 * Reading Avro container files: block by block from a stream of chunks (holding one block and
 * the input chunk it sits in, never the whole file), or whole from memory. Every block's sync
 * marker and byte count are verified. Blocks are numbered from 0 in messages.
 */
import { CorruptFileError } from '../errors.ts';
import { concatBytes } from '../util/bytes.ts';
import { AvroDataError, ByteReader, NeedMoreBytes } from './binary.ts';
import { decompressBlock, decompressBlockAsync } from './codecs.ts';
import { type AvroDecoder, type AvroProjection, createDecoder, createProjectedDecoder } from './decode.ts';
import { type AvroHeader, parseHeader, SYNC_SIZE, truncatedHeader } from './header.ts';
import type { AvroRecord, AvroType } from './schema.ts';

/** One decoded block. */
export interface AvroBlock {
  /** Block number, from 0. */
  readonly index: number;
  readonly records: AvroRecord[];
  /** Size of the block's (compressed) data in the file. */
  readonly byteLength: number;
}

/** Progress of a reader, updated as blocks are decoded. */
export interface AvroReadState {
  /** Record count of each block decoded so far, in order. */
  readonly blockRecordCounts: readonly number[];
  /** Bytes of the file consumed so far (header and whole blocks). */
  readonly bytesRead: number;
}

/** An open container file, read block by block. */
export interface AvroContainerReader extends AvroReadState {
  readonly header: AvroHeader;
  /** Records one at a time. Only one of {@link records} and {@link blocks} may be iterated, once. */
  records(): AsyncGenerator<AvroRecord>;
  /** Records a block at a time (fewer awaits than {@link records}). */
  blocks(): AsyncGenerator<AvroBlock>;
  /**
   * Records one at a time with the bytes that encode each (a view into the decoded block): for
   * rewriting a few fields and copying the rest. `offset` is where those bytes start in the
   * block, the origin of the positions of an `AvroSpan`.
   */
  encodedRecords(): AsyncGenerator<EncodedRecordView>;
  /** {@link encodedRecords} a block at a time (one await per block, not per record). */
  encodedBlocks(): AsyncGenerator<readonly EncodedRecordView[]>;
  /**
   * The blocks as they are in the file, not decompressed (each frame's sync marker and size
   * checked): for a caller that decodes them elsewhere, e.g. on a worker thread, or copies them.
   */
  frames(): AsyncGenerator<AvroFrame>;
  /** A frame of this file's records, decoded with the reader's projection (see {@link decodeFrame}). */
  decodeFrame(frame: AvroFrame): EncodedRecordView[];
}

/** One block of a container file as stored: its record count and its compressed data. */
export interface AvroFrame {
  /** Block number, from 0. */
  readonly index: number;
  readonly count: number;
  /** The block's data as stored (compressed with the file's codec). */
  readonly data: Uint8Array;
}

/** A record as {@link AvroContainerReader.encodedRecords} gives it. */
export interface EncodedRecordView {
  readonly record: AvroRecord;
  readonly bytes: Uint8Array;
  readonly offset: number;
}

/** Options of {@link openAvroContainer}. */
export interface OpenAvroOptions {
  /** Decode only these fields of each record, skipping the rest (see {@link AvroProjection}). */
  readonly projection?: AvroProjection;
}

/** A whole file read at once. */
export interface AvroFile {
  readonly header: AvroHeader;
  readonly records: AvroRecord[];
  /** Record count of each block, in order. */
  readonly blockRecordCounts: number[];
}

/** A block's frame: where it starts and how it ends, or what is missing. */
type Frame =
  | { ok: true; count: number; data: Uint8Array; next: number }
  | { ok: false; needed: number; detail: string };

/**
 * Reads one block frame at `pos`: record count, byte size, data and sync marker (checked).
 * Returns what is missing when the bytes end early, with the message to use if they never come.
 */
function readFrame(
  buf: Uint8Array,
  pos: number,
  end: number,
  sync: Uint8Array,
  index: number,
  file: string,
): Frame {
  const r = new ByteReader(buf, pos, end);
  let count: number;
  let size: number;
  try {
    count = r.readCount();
    size = r.readCount();
  } catch (err) {
    if (err instanceof NeedMoreBytes) {
      return {
        ok: false,
        needed: err.needed,
        detail: `truncated Avro block ${index} (incomplete block header)`,
      };
    }
    throw new CorruptFileError(file, `bad Avro block ${index} header: ${(err as Error).message}`);
  }
  if (count < 0) throw new CorruptFileError(file, `bad Avro block ${index} (negative record count ${count})`);
  if (size < 0) throw new CorruptFileError(file, `bad Avro block ${index} (negative byte size ${size})`);
  const dataStart = r.pos;
  const got = end - dataStart;
  if (got < size) {
    return {
      ok: false,
      needed: dataStart + size,
      detail: `truncated Avro block ${index} (expected ${size} bytes, got ${got})`,
    };
  }
  const syncStart = dataStart + size;
  if (end - syncStart < SYNC_SIZE) {
    return {
      ok: false,
      needed: syncStart + SYNC_SIZE,
      detail: `truncated Avro block ${index} (expected a ${SYNC_SIZE}-byte sync marker, got ${end - syncStart})`,
    };
  }
  for (let i = 0; i < SYNC_SIZE; i++) {
    if (buf[syncStart + i] !== sync[i])
      throw new CorruptFileError(file, `bad sync marker after block ${index}`);
  }
  return { ok: true, count, data: buf.subarray(dataStart, syncStart), next: syncStart + SYNC_SIZE };
}

/**
 * A block's data, decompressed. Values decoded from it are views into it (one allocation per
 * block, not per value), so it must be private: decompressors return fresh memory, a null-codec
 * block is copied.
 */
function rawBlock(codec: string, data: Uint8Array, index: number, file: string): Uint8Array {
  return codec === 'null' ? new Uint8Array(data) : decompressBlock(codec, data, index, file);
}

function rawBlockAsync(codec: string, data: Uint8Array, index: number, file: string): Promise<Uint8Array> {
  return codec === 'null'
    ? Promise.resolve(new Uint8Array(data))
    : decompressBlockAsync(codec, data, index, file);
}

/**
 * The records of a stored block with the bytes of each (see {@link AvroContainerReader.encodedRecords}),
 * for a file of codec `codec` read with `decoder`.
 * @throws CorruptFileError for data that cannot be decompressed or decoded.
 */
export function decodeFrame(
  decoder: AvroDecoder,
  codec: string,
  frame: AvroFrame,
  file: string,
): EncodedRecordView[] {
  const views: EncodedRecordView[] = [];
  decodeBlock(decoder, rawBlock(codec, frame.data, frame.index, file), frame.count, frame.index, file, views);
  return views;
}

function decodeBlock(
  decoder: AvroDecoder,
  raw: Uint8Array,
  count: number,
  index: number,
  file: string,
  views?: EncodedRecordView[],
): AvroRecord[] {
  const r = new ByteReader(raw, 0, raw.length, false);
  const out: AvroRecord[] = [];
  let i = 0;
  try {
    if (views) {
      for (; i < count; i++) {
        const start = r.pos;
        const record = decoder(r) as AvroRecord;
        out.push(record);
        views.push({ record, bytes: raw.subarray(start, r.pos), offset: start });
      }
    } else for (; i < count; i++) out.push(decoder(r) as AvroRecord);
  } catch (err) {
    if (err instanceof NeedMoreBytes) {
      throw new CorruptFileError(file, `Avro block ${index} ends inside record ${i} of ${count}`);
    }
    if (err instanceof AvroDataError) {
      throw new CorruptFileError(file, `bad record ${i} in Avro block ${index}: ${err.message}`);
    }
    throw err;
  }
  if (r.remaining !== 0) {
    throw new CorruptFileError(
      file,
      `Avro block ${index} has ${r.remaining} bytes left after its ${count} records`,
    );
  }
  return out;
}

/** A block read, its decompression under way. */
interface PendingBlock {
  readonly index: number;
  readonly count: number;
  readonly byteLength: number;
  readonly raw: Promise<Uint8Array>;
}

/** Bytes of an input stream not yet consumed, refilled from the stream on demand. */
class ChunkBuffer {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** Bytes consumed before `buf[0]`. */
  base = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.it = chunks[Symbol.asyncIterator]();
  }

  /** Makes `buf` hold at least `n` unconsumed bytes from `pos`; false if the stream ends first. */
  async fill(n: number): Promise<boolean> {
    if (this.buf.length - this.pos >= n) return true;
    const parts: Uint8Array[] = [this.buf.subarray(this.pos)];
    let total = parts[0]!.length;
    while (total < n && !this.done) {
      const next = await this.it.next();
      if (next.done) {
        this.done = true;
        break;
      }
      if (next.value.length === 0) continue;
      parts.push(next.value);
      total += next.value.length;
    }
    if (parts.length > 1) {
      this.base += this.pos;
      this.buf = concatBytes(parts, total);
      this.pos = 0;
    }
    return total >= n;
  }

  /** Whether every byte has been consumed and the stream is over. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Stops the input stream early (lets a file handle close). */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}

/**
 * Opens a container file given as a stream of chunks (e.g. a file read stream) and reads its
 * header. Records are then decoded block by block as they are iterated; each block's sync
 * marker and byte count are verified.
 * @throws CorruptFileError for a file that is not Avro, truncated or corrupt.
 * @throws UnsupportedError for a codec this module does not implement.
 */
export async function openAvroContainer(
  chunks: AsyncIterable<Uint8Array>,
  fileName: string,
  options: OpenAvroOptions = {},
): Promise<AvroContainerReader> {
  const input = new ChunkBuffer(chunks);
  let header: AvroHeader | undefined;
  let wanted = 4096;
  try {
    while (header === undefined) {
      const complete = await input.fill(wanted);
      const r = new ByteReader(input.buf, input.pos);
      try {
        header = parseHeader(r, fileName);
        input.pos = r.pos;
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) throw err;
        if (!complete) throw truncatedHeader(fileName, input.buf.length - input.pos);
        wanted = Math.max(err.needed - input.pos, wanted * 2);
      }
    }
  } catch (err) {
    await input.close();
    throw err;
  }
  const h = header;
  const decoder = options.projection
    ? createProjectedDecoder(h.schema, options.projection)
    : createDecoder(h.schema);
  const counts: number[] = [];
  let started = false;

  /** The frame of block `index`, or `undefined` at the end of the file. */
  const nextFrame = async (index: number): Promise<AvroFrame | undefined> => {
    if (await input.atEnd()) return undefined;
    let frame = readFrame(input.buf, input.pos, input.buf.length, h.sync, index, fileName);
    while (!frame.ok) {
      if (!(await input.fill(frame.needed - input.pos))) throw new CorruptFileError(fileName, frame.detail);
      frame = readFrame(input.buf, input.pos, input.buf.length, h.sync, index, fileName);
    }
    input.pos = frame.next;
    return { index, count: frame.count, data: frame.data };
  };

  const start = () => {
    if (started) throw new Error(`${fileName}: Avro records can be iterated only once`);
    started = true;
  };

  async function* frames(): AsyncGenerator<AvroFrame> {
    start();
    try {
      for (let index = 0; ; index++) {
        const frame = await nextFrame(index);
        if (!frame) return;
        counts.push(frame.count);
        yield frame;
      }
    } finally {
      await input.close();
    }
  }

  async function* blocks(withBytes = false): AsyncGenerator<AvroBlock & { views?: EncodedRecordView[] }> {
    start();
    // The next block is read and its decompression started (on the thread pool) before this
    // block's records are decoded and handed out; an error reading it is raised only after.
    const next = async (index: number): Promise<PendingBlock | undefined> => {
      const frame = await nextFrame(index);
      if (!frame) return undefined;
      const raw = rawBlockAsync(h.codec, frame.data, index, fileName);
      raw.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
      return { index, count: frame.count, byteLength: frame.data.length, raw };
    };
    let following: Promise<{ b: PendingBlock | undefined } | { error: unknown }> | undefined;
    try {
      let ahead = await next(0);
      while (ahead) {
        const block = ahead;
        following = next(block.index + 1).then(
          (b) => ({ b }),
          (error: unknown) => ({ error }),
        );
        const views: EncodedRecordView[] | undefined = withBytes ? [] : undefined;
        const records = decodeBlock(decoder, await block.raw, block.count, block.index, fileName, views);
        counts.push(block.count);
        yield { index: block.index, records, byteLength: block.byteLength, ...(views ? { views } : {}) };
        const f = await following;
        following = undefined;
        if ('error' in f) throw f.error;
        ahead = f.b;
      }
    } finally {
      // A consumer that stops early: let the read ahead settle before the input is closed.
      await following;
      await input.close();
    }
  }

  async function* records(): AsyncGenerator<AvroRecord> {
    for await (const block of blocks()) yield* block.records;
  }

  async function* encodedRecords(): AsyncGenerator<EncodedRecordView> {
    for await (const block of blocks(true)) yield* block.views!;
  }

  async function* encodedBlocks(): AsyncGenerator<readonly EncodedRecordView[]> {
    for await (const block of blocks(true)) yield block.views!;
  }

  return {
    header: h,
    blockRecordCounts: counts,
    get bytesRead() {
      return input.base + input.pos;
    },
    records,
    blocks: () => blocks(),
    encodedRecords,
    encodedBlocks,
    frames,
    decodeFrame: (frame) => decodeFrame(decoder, h.codec, frame, fileName),
  };
}

/** Decodes one record from the bytes that encode it (as {@link AvroContainerReader.encodedRecords} gives them). */
export function recordBytesDecoder(schema: AvroType): (bytes: Uint8Array) => AvroRecord {
  const decoder = createDecoder(schema);
  return (bytes) => decoder(new ByteReader(bytes)) as AvroRecord;
}

/**
 * Reads a whole container file held in memory.
 * @throws CorruptFileError for a file that is not Avro, truncated or corrupt.
 * @throws UnsupportedError for a codec this module does not implement.
 */
export function readAvroFile(bytes: Uint8Array, fileName: string): AvroFile {
  const r = new ByteReader(bytes);
  let header: AvroHeader;
  try {
    header = parseHeader(r, fileName);
  } catch (err) {
    if (err instanceof NeedMoreBytes) throw truncatedHeader(fileName, bytes.length);
    throw err;
  }
  const decoder = createDecoder(header.schema);
  const records: AvroRecord[] = [];
  const blockRecordCounts: number[] = [];
  let pos = r.pos;
  for (let index = 0; pos < bytes.length; index++) {
    const frame = readFrame(bytes, pos, bytes.length, header.sync, index, fileName);
    if (!frame.ok) throw new CorruptFileError(fileName, frame.detail);
    const raw = rawBlock(header.codec, frame.data, index, fileName);
    const block = decodeBlock(decoder, raw, frame.count, index, fileName);
    for (const rec of block) records.push(rec);
    blockRecordCounts.push(frame.count);
    pos = frame.next;
  }
  return { header, records, blockRecordCounts };
}
