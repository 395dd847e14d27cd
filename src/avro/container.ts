/**
 * Avro object container files (Avro 1.11 specification, "Object Container Files"), read and
 * written by this project rather than a general Avro library because Iceberg manifests need:
 *
 * - the header's metadata map kept byte-exact and in file order (`schema`, `avro.codec`,
 *   `partition-spec`, `format-version`, `iceberg.schema`, ... every key, known or not), so a
 *   rewritten manifest carries exactly the source's metadata;
 * - 64-bit longs as `bigint`, never rounded;
 * - streaming block by block: the reader holds one block (plus the input chunk it sits in), never
 *   the whole file, so manifests of any size decode in bounded memory;
 * - block boundaries under control: the reader reports each block's record count and the
 *   writer can follow such a sequence, so an unchanged file re-encodes to identical bytes.
 *
 * Codecs: `null`, `deflate` (raw RFC 1951), `snappy` (each block followed by the big-endian
 * CRC-32 of its uncompressed data, which is verified) and `zstandard`.
 *
 * Blocks are numbered from 0 in messages and in {@link AvroReadState.blockRecordCounts}.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  crc32,
  deflateRawSync,
  inflateRawSync,
  constants as zlibConstants,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import { CorruptFileError, UnsupportedError } from '../errors.ts';
import { concatBytes } from '../util/bytes.ts';
import { AvroDataError, ByteReader, ByteWriter, NeedMoreBytes } from './binary.ts';
import {
  type AvroDecoder,
  type AvroEncoder,
  type AvroRecord,
  type AvroType,
  createDecoder,
  createEncoder,
  parseAvroSchema,
} from './schema.ts';

// snappyjs ships no type declarations; this is the part of its API we use.
const snappy = createRequire(import.meta.url)('snappyjs') as {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
};

/** The 4 bytes every Avro object container file starts with. */
export const AVRO_MAGIC: Uint8Array = Uint8Array.of(0x4f, 0x62, 0x6a, 0x01);
/** Length of the sync marker. */
export const SYNC_SIZE = 16;
/** Codecs this module reads and writes. */
export const SUPPORTED_CODECS: readonly string[] = ['null', 'deflate', 'snappy', 'zstandard'];
/**
 * Default uncompressed block size at which the writer ends a block: the sync interval of
 * Avro's Java `DataFileWriter`, so files written by Iceberg's Java writers get the same
 * block boundaries.
 */
export const DEFAULT_BLOCK_BYTES = 64000;

export type { AvroRecord, AvroValue } from './schema.ts';

/** The header of a container file. */
export interface AvroHeader {
  /** Metadata map, in file order, values as stored (exact bytes). */
  readonly meta: Map<string, Uint8Array>;
  /** The 16-byte sync marker. */
  readonly sync: Uint8Array;
  /** The codec (`avro.codec`, `null` when absent). */
  readonly codec: string;
  /** The resolved writer schema. */
  readonly schema: AvroType;
  /** The writer schema as `JSON.parse` returns it (all attributes, e.g. `field-id`). */
  readonly schemaJson: unknown;
  /** The header's bytes exactly as read: magic, metadata map and sync marker. */
  readonly bytes: Uint8Array;
}

/** A header as the writer needs it: the metadata map, and a sync marker to reuse. */
export interface AvroHeaderInput {
  readonly meta: Map<string, Uint8Array>;
  readonly sync?: Uint8Array;
}

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
}

/** A whole file read at once. */
export interface AvroFile {
  readonly header: AvroHeader;
  readonly records: AvroRecord[];
  /** Record count of each block, in order. */
  readonly blockRecordCounts: number[];
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

function utf8(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : textDecoder.decode(bytes);
}

function checkCodec(codec: string, file: string | undefined): void {
  if (SUPPORTED_CODECS.includes(codec)) return;
  // bzip2 and xz are Avro codecs we do not implement; anything else is not an Avro codec.
  const what = codec === 'bzip2' || codec === 'xz' ? 'unsupported' : 'unknown';
  throw new UnsupportedError(file, `${what} Avro codec '${codec}'`);
}

/**
 * Parses the header from the start of `r`.
 * @throws NeedMoreBytes if the header continues past the available bytes.
 */
function parseHeader(r: ByteReader, fileName: string): AvroHeader {
  const start = r.pos;
  const avail = Math.min(4, r.remaining);
  for (let i = 0; i < avail; i++) {
    if (r.buf[start + i] !== AVRO_MAGIC[i]) {
      throw new CorruptFileError(fileName, 'not an Avro object container file (bad magic)');
    }
  }
  r.need(4);
  r.pos += 4;
  const meta = new Map<string, Uint8Array>();
  try {
    for (let n = r.readCount(); n !== 0; n = r.readCount()) {
      if (n < 0) {
        n = -n;
        r.readCount();
      }
      for (let i = 0; i < n; i++) {
        const key = r.readString();
        meta.set(key, r.readBytes());
      }
    }
  } catch (err) {
    if (err instanceof AvroDataError) throw new CorruptFileError(fileName, `bad Avro header: ${err.message}`);
    throw err;
  }
  const sync = r.readFixed(SYNC_SIZE);
  const codec = utf8(meta.get('avro.codec')) ?? 'null';
  checkCodec(codec, fileName);
  const schemaText = utf8(meta.get('avro.schema'));
  if (schemaText === undefined) throw new CorruptFileError(fileName, 'Avro header has no schema');
  let schemaJson: unknown;
  try {
    schemaJson = JSON.parse(schemaText);
  } catch (err) {
    throw new CorruptFileError(fileName, `bad Avro schema: ${(err as Error).message}`);
  }
  const schema = parseAvroSchema(schemaJson, fileName);
  const bytes = r.buf.slice(start, r.pos);
  return { meta, sync, codec, schema, schemaJson, bytes };
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
 * Most bytes one block may decompress to. Avro does not record a block's uncompressed size, so
 * this bounds what a corrupt or hostile block can make us allocate; manifests' blocks are tens
 * of kilobytes (writers end a block at 64 kB by default).
 */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

function decompress(codec: string, data: Uint8Array, index: number, file: string): Uint8Array {
  switch (codec) {
    case 'null':
      return data;
    case 'deflate':
      try {
        return inflateRawSync(data, { maxOutputLength: MAX_BLOCK_BYTES });
      } catch (err) {
        throw new CorruptFileError(
          file,
          `bad deflate data in Avro block ${index}: ${(err as Error).message}`,
        );
      }
    case 'snappy': {
      if (data.length < 4)
        throw new CorruptFileError(file, `bad snappy data in Avro block ${index} (no CRC)`);
      let raw: Uint8Array;
      try {
        raw = snappy.uncompress(data.subarray(0, data.length - 4), MAX_BLOCK_BYTES);
      } catch (err) {
        throw new CorruptFileError(file, `bad snappy data in Avro block ${index}: ${(err as Error).message}`);
      }
      const p = data.length - 4;
      const expected = ((data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!) >>> 0;
      const actual = crc32(raw);
      if (actual !== expected) {
        throw new CorruptFileError(
          file,
          `snappy CRC mismatch in Avro block ${index} (stored ${hex8(expected)}, computed ${hex8(actual)})`,
        );
      }
      return raw;
    }
    case 'zstandard':
      try {
        return zstdDecompressSync(data, { maxOutputLength: MAX_BLOCK_BYTES });
      } catch (err) {
        throw new CorruptFileError(
          file,
          `bad zstandard data in Avro block ${index}: ${(err as Error).message}`,
        );
      }
    default:
      throw new UnsupportedError(file, `unknown Avro codec '${codec}'`);
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function decodeBlock(
  decoder: AvroDecoder,
  codec: string,
  count: number,
  data: Uint8Array,
  index: number,
  file: string,
): AvroRecord[] {
  // Values are views into the decoded block (one allocation per block, not per value), so
  // the block must be private: decompressors return fresh memory, a null-codec block is copied.
  const raw = codec === 'null' ? new Uint8Array(data) : decompress(codec, data, index, file);
  const r = new ByteReader(raw, 0, raw.length, false);
  const out: AvroRecord[] = [];
  let i = 0;
  try {
    for (; i < count; i++) out.push(decoder(r) as AvroRecord);
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
  const decoder = createDecoder(h.schema);
  const counts: number[] = [];
  let started = false;

  async function* blocks(): AsyncGenerator<AvroBlock> {
    if (started) throw new Error(`${fileName}: Avro records can be iterated only once`);
    started = true;
    try {
      for (let index = 0; !(await input.atEnd()); index++) {
        let frame = readFrame(input.buf, input.pos, input.buf.length, h.sync, index, fileName);
        while (!frame.ok) {
          if (!(await input.fill(frame.needed - input.pos)))
            throw new CorruptFileError(fileName, frame.detail);
          frame = readFrame(input.buf, input.pos, input.buf.length, h.sync, index, fileName);
        }
        const records = decodeBlock(decoder, h.codec, frame.count, frame.data, index, fileName);
        input.pos = frame.next;
        counts.push(frame.count);
        yield { index, records, byteLength: frame.data.length };
      }
    } finally {
      await input.close();
    }
  }

  async function* records(): AsyncGenerator<AvroRecord> {
    for await (const block of blocks()) yield* block.records;
  }

  return {
    header: h,
    blockRecordCounts: counts,
    get bytesRead() {
      return input.base + input.pos;
    },
    records,
    blocks,
  };
}

function truncatedHeader(fileName: string, got: number): CorruptFileError {
  if (got === 0) return new CorruptFileError(fileName, 'empty file (not an Avro object container file)');
  return new CorruptFileError(fileName, `truncated Avro header (file has only ${got} bytes)`);
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
    const block = decodeBlock(decoder, header.codec, frame.count, frame.data, index, fileName);
    for (const rec of block) records.push(rec);
    blockRecordCounts.push(frame.count);
    pos = frame.next;
  }
  return { header, records, blockRecordCounts };
}

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

/** The synchronous core of the writer: turns records into header and block bytes. */
class BlockEncoder {
  readonly blockRecordCounts: number[] = [];
  private readonly encoder: AvroEncoder;
  private readonly codec: string;
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
  add(record: AvroRecord): Uint8Array | undefined {
    const mark = this.body.length;
    try {
      this.encoder(this.body, record);
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
    return full ? this.flush() : undefined;
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
    const data = compress(this.codec, this.body.bytesView(), this.options);
    const out = this.frame;
    out.reset();
    const h = this.takeHeader();
    if (h) out.writeRaw(h);
    out.writeCount(this.count);
    out.writeCount(data.length);
    out.writeRaw(data);
    out.writeRaw(this.sync);
    this.blockRecordCounts.push(this.count);
    this.count = 0;
    this.body.reset();
    return out.toBytes();
  }
}

function compress(codec: string, raw: Uint8Array, options: AvroWriterOptions): Uint8Array {
  switch (codec) {
    case 'null':
      return raw;
    case 'deflate':
      return deflateRawSync(raw, { level: options.deflateLevel ?? 6 });
    case 'snappy': {
      const body = snappy.compress(raw);
      const out = new Uint8Array(body.length + 4);
      out.set(body);
      new DataView(out.buffer).setUint32(body.length, crc32(raw), false);
      return out;
    }
    case 'zstandard':
      return zstdCompressSync(raw, {
        params: { [zlibConstants.ZSTD_c_compressionLevel]: options.zstdLevel ?? 3 },
      });
    default:
      throw new UnsupportedError(options.fileName, `unknown Avro codec '${codec}'`);
  }
}

/** Encodes magic, metadata map (one block, in the map's order) and sync marker. */
function encodeHeader(meta: Map<string, Uint8Array>, sync: Uint8Array): Uint8Array {
  const w = new ByteWriter(4096);
  w.writeRaw(AVRO_MAGIC);
  if (meta.size > 0) {
    w.writeCount(meta.size);
    for (const [k, v] of meta) {
      w.writeString(k);
      w.writeBytes(v);
    }
  }
  w.writeCount(0);
  w.writeRaw(sync);
  return w.toBytes();
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

/**
 * Encodes a container file from a stream of records as a stream of chunks (one per block), so
 * a file of any size can be rewritten without holding it whole. The bytes equal those of
 * {@link encodeAvroFile} for the same records and options.
 */
export async function* encodeAvroStream(
  header: AvroHeaderInput,
  records: AsyncIterable<AvroRecord> | Iterable<AvroRecord>,
  options: AvroWriterOptions = {},
): AsyncGenerator<Uint8Array> {
  const enc = new BlockEncoder(header, options);
  for await (const rec of records) {
    const chunk = enc.add(rec);
    if (chunk) yield chunk;
  }
  const last = enc.finish();
  if (last) yield last;
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
