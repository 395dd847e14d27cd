/**
 * The metadata.json codec: plain and gzip-compressed files (`*.gz.metadata.json`,
 * `*.metadata.json.gz`), numbers exact, unknown fields kept.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CorruptFileError } from '../errors.ts';
import { isJsonObject, type JsonObject, parseJson, stringifyJson } from '../util/json.ts';
import { type TableMetadata, viewTableMetadata } from './metadata.ts';

/** A decoded metadata.json file. */
export interface MetadataDocument {
  /** The exact JSON; edit this to change the metadata. */
  readonly json: JsonObject;
  /** Typed view of `json` as it was read. */
  readonly metadata: TableMetadata;
  /** Whether the file was gzip-compressed. */
  readonly gzip: boolean;
  /** Whether the file was pretty-printed (written back the same way). */
  readonly pretty: boolean;
}

/**
 * Most bytes a compressed metadata file may inflate to: about the longest string the JS engine
 * makes, so a gzip bomb is refused before it exhausts memory.
 */
const MAX_METADATA_BYTES = 512 * 1024 * 1024;

/** True for names Iceberg uses for gzip-compressed metadata. */
export function isGzipMetadataName(path: string): boolean {
  return path.endsWith('.gz.metadata.json') || path.endsWith('.metadata.json.gz');
}

/**
 * Whether Iceberg's readers take a metadata file name for gzip. They pick the codec from the
 * name, never from the bytes: Java (`TableMetadataParser.Codec.fromFileName`) reads
 * `*.metadata.json.gz` and `*.gz.metadata.json` as gzip, PyIceberg only `*.gz.metadata.json`.
 */
export function readersTakeNameAsGzip(path: string): { java: boolean; pyiceberg: boolean } {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const at = base.lastIndexOf('.metadata.json');
  const java = base.endsWith('.metadata.json.gz') || (at >= 0 && base.slice(0, at).endsWith('.gz'));
  return { java, pyiceberg: base.endsWith('.gz.metadata.json') };
}

/**
 * The name a metadata file with this content gets: the source's name with its metadata suffix
 * replaced by the one every reader decodes as the content is (`.gz.metadata.json` for gzip,
 * `.metadata.json` otherwise). `v8.metadata.json` holding gzip becomes `v8.gz.metadata.json`;
 * `v8.gz.metadata.json` or `v8.metadata.json.gz` holding plain JSON becomes `v8.metadata.json`.
 */
export function metadataNameFor(name: string, gzip: boolean): string {
  let stem = name;
  for (const suffix of ['.gz.metadata.json', '.metadata.json.gz', '.metadata.json']) {
    if (stem.endsWith(suffix)) {
      stem = stem.slice(0, -suffix.length);
      break;
    }
  }
  return `${stem}${gzip ? '.gz' : ''}.metadata.json`;
}

/**
 * Why Iceberg readers could not decode this metadata file under its name (the codec the name
 * claims is not the content's), or `undefined` when Java Iceberg and PyIceberg both can.
 */
export function metadataNameMismatch(path: string, gzip: boolean): string | undefined {
  const by = readersTakeNameAsGzip(path);
  const wrong = [by.java !== gzip ? 'Java Iceberg' : '', by.pyiceberg !== gzip ? 'PyIceberg' : '']
    .filter((x) => x !== '')
    .join(' and ');
  if (!wrong) return undefined;
  const content = gzip ? 'gzip-compressed' : 'plain (uncompressed)';
  return `the content is ${content} JSON but ${wrong} would read it as ${gzip ? 'plain' : 'gzip'} by its name; a name matching the content is ${metadataNameFor(path.slice(path.lastIndexOf('/') + 1), gzip)}`;
}

/** True for any metadata.json file name (plain or compressed). */
export function isMetadataFileName(path: string): boolean {
  return path.endsWith('.metadata.json') || path.endsWith('.metadata.json.gz');
}

/** Decodes metadata.json bytes. Errors name the file and say what is wrong. */
export function decodeMetadata(bytes: Uint8Array, file: string): MetadataDocument {
  let raw = bytes;
  // Detect gzip by its magic rather than by name: names and codecs disagree in the wild.
  const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzip) {
    try {
      raw = new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_METADATA_BYTES }));
    } catch (err) {
      throw new CorruptFileError(file, `corrupt gzip-compressed metadata (${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  if (raw.length === 0) throw new CorruptFileError(file, 'empty metadata file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (err) {
    throw new CorruptFileError(file, 'metadata is not valid UTF-8', { cause: err });
  }
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (err) {
    throw new CorruptFileError(file, `metadata is not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (!isJsonObject(json)) throw new CorruptFileError(file, 'metadata is not a JSON object');
  const metadata = viewTableMetadata(json, file);
  const pretty = /^\s*\{\s*\n/.test(text.slice(0, 64));
  return { json, metadata, gzip, pretty };
}

/** Encodes metadata JSON, gzip-compressed when asked. */
export function encodeMetadata(
  json: JsonObject,
  options: { gzip?: boolean; pretty?: boolean } = {},
): Uint8Array {
  const text = stringifyJson(json, options.pretty ? { indent: 2 } : {});
  const bytes = new TextEncoder().encode(text);
  return options.gzip ? new Uint8Array(gzipSync(bytes)) : bytes;
}

/** Parses the version number out of a metadata file name (`v12.metadata.json`, `00012-<uuid>.metadata.json`). */
export function metadataVersionOf(path: string): number | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const m =
    /^v(\d+)(?:\.gz)?\.metadata\.json(?:\.gz)?$/.exec(base) ??
    /^(\d+)-[^/]*\.metadata\.json(?:\.gz)?$/.exec(base);
  return m ? Number(m[1]) : undefined;
}
