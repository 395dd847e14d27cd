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
 *
 * Modules: `header.ts` (magic, metadata map, sync marker), `codecs.ts` (block codecs and their
 * size cap), `reader.ts` and `writer.ts`. This module is their public face.
 */

export { MAX_BLOCK_BYTES, SUPPORTED_CODECS } from './codecs.ts';
export { type AvroProjection, AvroSpan } from './decode.ts';
export { AVRO_MAGIC, type AvroHeader, type AvroHeaderInput, SYNC_SIZE } from './header.ts';
export {
  type AvroBlock,
  type AvroContainerReader,
  type AvroFile,
  type AvroFrame,
  type AvroReadState,
  decodeFrame,
  type EncodedRecordView,
  type OpenAvroOptions,
  openAvroContainer,
  readAvroFile,
  recordBytesDecoder,
} from './reader.ts';
export type { AvroRecord, AvroValue } from './schema.ts';
export {
  type AvroStreamItem,
  type AvroWriter,
  type AvroWriterOptions,
  CompressedBlock,
  createAvroWriter,
  DEFAULT_BLOCK_BYTES,
  EncodedRecord,
  encodeAvroFile,
  encodeAvroStream,
  replaceEncodedString,
  writeReplaced,
} from './writer.ts';
