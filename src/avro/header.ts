/**
 * The header of an Avro container file: magic, metadata map and sync marker. Parsing keeps the
 * header's bytes exactly as read and the map in file order; encoding writes the map in its
 * order, so a header read and written back is byte for byte the same.
 */
import { CorruptFileError } from '../errors.ts';
import { AvroDataError, type ByteReader, ByteWriter } from './binary.ts';
import { checkCodec } from './codecs.ts';
import { type AvroType, parseAvroSchema } from './schema.ts';

/** The 4 bytes every Avro object container file starts with. */
export const AVRO_MAGIC: Uint8Array = Uint8Array.of(0x4f, 0x62, 0x6a, 0x01);
/** Length of the sync marker. */
export const SYNC_SIZE = 16;

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

const textDecoder = new TextDecoder();

/** Decodes UTF-8 metadata bytes; undefined stays undefined. */
export function utf8(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : textDecoder.decode(bytes);
}

/**
 * Parses the header from the start of `r`.
 * @throws NeedMoreBytes if the header continues past the available bytes.
 */
export function parseHeader(r: ByteReader, fileName: string): AvroHeader {
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

/** Encodes magic, metadata map (one block, in the map's order) and sync marker. */
export function encodeHeader(meta: Map<string, Uint8Array>, sync: Uint8Array): Uint8Array {
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

/** The error for a file that ends inside its header (`got` bytes in all). */
export function truncatedHeader(fileName: string, got: number): CorruptFileError {
  if (got === 0) return new CorruptFileError(fileName, 'empty file (not an Avro object container file)');
  return new CorruptFileError(fileName, `truncated Avro header (file has only ${got} bytes)`);
}
