/**
 * Puffin files (Iceberg statistics and deletion vectors): reading the footer, and rewriting
 * blob properties such as a deletion vector's `referenced-data-file`.
 *
 * Layout (Iceberg Puffin spec): `Magic Blob* Footer`, where
 * `Footer = Magic FooterPayload FooterPayloadSize(int32 LE) Flags(4 bytes) Magic` and the
 * payload is UTF-8 JSON `{"blobs": [...], "properties": {...}}`. The footer is last, so a
 * new footer leaves every blob's offset and bytes as they were.
 *
 * The rewrite edits the JSON text in place: only the property values that change are
 * replaced, so 64-bit ids, unknown keys, key order and whitespace stay exactly as written.
 */

import { CorruptFileError, UnsupportedError } from '../errors.ts';
import type { RangeReader } from '../storage/storage.ts';
import type { JsonObject, JsonValue } from '../util/json.ts';
import { JsonDecimal, parseJson } from '../util/json.ts';

/** "PFA1". */
const MAGIC = Uint8Array.of(0x50, 0x46, 0x41, 0x31);
/** Payload size, flags and trailing magic. */
const TRAILER = 12;
/** The first tail read; most footers fit, so one read usually suffices. */
const INITIAL_TAIL = 64 * 1024;
/** Flag byte 0, bit 0: the payload is LZ4-compressed. */
const FLAG_COMPRESSED = 0x01;

/** One blob's metadata from the footer. */
export interface PuffinBlob {
  readonly type: string;
  readonly fields: readonly number[];
  readonly snapshotId: bigint;
  readonly sequenceNumber: bigint;
  readonly offset: number;
  readonly length: number;
  readonly compressionCodec?: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** A decoded Puffin footer. */
export interface PuffinFooter {
  readonly blobs: readonly PuffinBlob[];
  readonly properties: Readonly<Record<string, string>>;
  /** Offset of the footer's leading magic: every blob lies before it. */
  readonly footerStart: number;
  /** Always false in a result: compressed payloads are refused. */
  readonly footerPayloadCompressed: boolean;
}

/** Reads and decodes a Puffin footer with at most two range reads (a tail, then the rest). */
export async function readPuffinFooter(reader: RangeReader, fileName: string): Promise<PuffinFooter> {
  const size = reader.size;
  checkSize(size, fileName);
  const tailLength = Math.min(size, INITIAL_TAIL);
  const tail = await reader.read(size - tailLength, tailLength);
  if (tail.length !== tailLength) throw new CorruptFileError(fileName, 'short read of the footer');
  const { footerStart } = locateFooter(tail, size, fileName);
  let footer: Uint8Array;
  if (footerStart >= size - tailLength) {
    footer = tail.subarray(footerStart - (size - tailLength));
  } else {
    const head = await reader.read(footerStart, size - tailLength - footerStart);
    if (head.length !== size - tailLength - footerStart) {
      throw new CorruptFileError(fileName, 'short read of the footer');
    }
    footer = new Uint8Array(size - footerStart);
    footer.set(head);
    footer.set(tail, head.length);
  }
  return decodeFooter(footer, footerStart, fileName).footer;
}

/** Decodes the footer of a Puffin file held in memory. */
export function decodePuffinFooter(input: Uint8Array, fileName: string): PuffinFooter {
  checkSize(input.length, fileName);
  const { footerStart } = locateFooter(input, input.length, fileName);
  return decodeFooter(input.subarray(footerStart), footerStart, fileName).footer;
}

/**
 * Writes a new footer whose blob properties are those `transform` returns (undefined: keep
 * the blob's properties). Blob bytes are copied verbatim. When no property changes, returns
 * the input itself with `changed: false`.
 */
export function rewritePuffinFooter(
  input: Uint8Array,
  transform: (blob: PuffinBlob) => Record<string, string> | undefined,
  fileName: string,
): { bytes: Uint8Array; changed: boolean } {
  checkSize(input.length, fileName);
  const { footerStart } = locateFooter(input, input.length, fileName);
  const footerBytes = input.subarray(footerStart);
  const { footer, text, spans: root } = decodeFooter(footerBytes, footerStart, fileName);

  const blobNodes = member(root, 'blobs')?.items ?? [];
  const edits: Edit[] = [];
  footer.blobs.forEach((blob, i) => {
    const next = transform(blob);
    if (next === undefined) return;
    const node = blobNodes[i];
    if (!node) throw new CorruptFileError(fileName, 'footer blobs changed while rewriting');
    edits.push(...propertyEdits(node, blob.properties, next));
  });
  if (edits.length === 0) return { bytes: input, changed: false };

  edits.sort((a, b) => b.start - a.start);
  let newText = text;
  for (const e of edits) newText = newText.slice(0, e.start) + e.text + newText.slice(e.end);
  const payload = new TextEncoder().encode(newText);

  const out = new Uint8Array(footerStart + MAGIC.length + payload.length + TRAILER);
  out.set(input.subarray(0, footerStart));
  let at = footerStart;
  out.set(MAGIC, at);
  at += MAGIC.length;
  out.set(payload, at);
  at += payload.length;
  new DataView(out.buffer).setInt32(at, payload.length, true);
  // Flags are kept as they were (only bit 0, compression, has a meaning, and it is clear).
  out.set(input.subarray(input.length - 8, input.length - 4), at + 4);
  out.set(MAGIC, at + 8);
  return { bytes: out, changed: true };
}

// ---------------------------------------------------------------------------------------------

function checkSize(size: number, fileName: string): void {
  // Leading magic, footer magic and trailer; a real payload needs more, checked later.
  if (size < MAGIC.length * 2 + TRAILER) {
    throw new CorruptFileError(fileName, `not a Puffin file (${size} bytes is too small)`);
  }
}

/** Checks the trailer held at the end of `tail` (the last bytes of a file of `size`). */
function locateFooter(tail: Uint8Array, size: number, fileName: string): { footerStart: number } {
  const n = tail.length;
  if (!hasMagic(tail, n - 4)) throw new CorruptFileError(fileName, 'bad footer magic');
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const payloadSize = view.getInt32(n - TRAILER, true);
  if (payloadSize < 0 || payloadSize > size - MAGIC.length * 2 - TRAILER) {
    throw new CorruptFileError(
      fileName,
      `truncated footer (payload size ${payloadSize} exceeds file size ${size})`,
    );
  }
  if ((tail[n - 8]! & FLAG_COMPRESSED) !== 0) {
    throw new UnsupportedError(fileName, 'compressed Puffin footer payload (LZ4) is not supported');
  }
  return { footerStart: size - TRAILER - payloadSize - MAGIC.length };
}

/** Decodes `footer`: the bytes from the footer's leading magic to the end of the file. */
function decodeFooter(
  footer: Uint8Array,
  footerStart: number,
  fileName: string,
): { footer: PuffinFooter; text: string; spans: JsonSpan } {
  if (!hasMagic(footer, 0)) throw new CorruptFileError(fileName, 'bad magic at footer start');
  const payload = footer.subarray(MAGIC.length, footer.length - TRAILER);
  let text: string;
  let json: JsonValue;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    json = parseJson(text);
  } catch (err) {
    throw new CorruptFileError(fileName, `footer payload is not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  // Parsers keep the last of two equal keys, an editor might change the first: refuse both.
  const spans = scanJson(text, fileName);
  const root = asObject(json, 'footer payload', fileName);
  const blobsJson = root.blobs;
  if (!Array.isArray(blobsJson)) throw new CorruptFileError(fileName, 'footer payload has no "blobs" list');
  const blobs = blobsJson.map((b, i) => blobOf(b, i, footerStart, fileName));
  const properties =
    root.properties === undefined ? {} : stringMap(root.properties, 'footer properties', fileName);
  return { footer: { blobs, properties, footerStart, footerPayloadCompressed: false }, text, spans };
}

function blobOf(value: JsonValue, i: number, footerStart: number, fileName: string): PuffinBlob {
  const what = `blob ${i}`;
  const o = asObject(value, what, fileName);
  const type = o.type;
  if (typeof type !== 'string') throw new CorruptFileError(fileName, `${what} has no type`);
  const fieldsJson = o.fields;
  if (!Array.isArray(fieldsJson)) throw new CorruptFileError(fileName, `${what} has no fields list`);
  const fields = fieldsJson.map((f) => Number(integer(f, `${what} field id`, fileName)));
  const offset = safe(integer(o.offset, `${what} offset`, fileName), `${what} offset`, fileName);
  const length = safe(integer(o.length, `${what} length`, fileName), `${what} length`, fileName);
  if (offset < MAGIC.length || offset + length > footerStart) {
    throw new CorruptFileError(
      fileName,
      `${what} (offset ${offset}, length ${length}) lies outside the blob area`,
    );
  }
  const codec = o['compression-codec'];
  if (codec !== undefined && codec !== null && typeof codec !== 'string') {
    throw new CorruptFileError(fileName, `${what} has a bad compression-codec`);
  }
  return {
    type,
    fields,
    snapshotId: integer(o['snapshot-id'], `${what} snapshot-id`, fileName),
    sequenceNumber: integer(o['sequence-number'], `${what} sequence-number`, fileName),
    offset,
    length,
    ...(typeof codec === 'string' && { compressionCodec: codec }),
    properties: o.properties === undefined ? {} : stringMap(o.properties, `${what} properties`, fileName),
  };
}

function asObject(v: JsonValue | undefined, what: string, fileName: string): JsonObject {
  if (
    v === null ||
    v === undefined ||
    typeof v !== 'object' ||
    Array.isArray(v) ||
    v instanceof JsonDecimal
  ) {
    throw new CorruptFileError(fileName, `${what} is not a JSON object`);
  }
  return v as JsonObject;
}

function integer(v: JsonValue | undefined, what: string, fileName: string): bigint {
  if (typeof v !== 'bigint') throw new CorruptFileError(fileName, `${what} is missing or not an integer`);
  return v;
}

function safe(v: bigint, what: string, fileName: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CorruptFileError(fileName, `${what} is out of range`);
  return Number(v);
}

function stringMap(v: JsonValue, what: string, fileName: string): Record<string, string> {
  const o = asObject(v, what, fileName);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw new CorruptFileError(fileName, `${what}: "${k}" is not a string`);
    out[k] = val;
  }
  return out;
}

function hasMagic(bytes: Uint8Array, at: number): boolean {
  return at >= 0 && MAGIC.every((b, i) => bytes[at + i] === b);
}

// ---------------------------------------------------------------------------------------------
// Surgical JSON editing

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Where one JSON value sits in the text; objects and arrays list their parts. */
interface JsonSpan {
  start: number;
  end: number;
  members?: { key: string; value: JsonSpan }[];
  items?: JsonSpan[];
}

function member(node: JsonSpan, key: string): JsonSpan | undefined {
  return node.members?.find((m) => m.key === key)?.value;
}

/**
 * The edits that turn a blob's properties into `next`: a changed string value is replaced
 * where it stands; added or removed keys (or a missing properties object) rewrite the object.
 */
function propertyEdits(
  blob: JsonSpan,
  current: Readonly<Record<string, string>>,
  next: Record<string, string>,
): Edit[] {
  const keys = Object.keys(current);
  const nextKeys = Object.keys(next);
  const sameKeys = keys.length === nextKeys.length && nextKeys.every((k) => Object.hasOwn(current, k));
  const props = member(blob, 'properties');
  if (sameKeys && props?.members) {
    const edits: Edit[] = [];
    for (const m of props.members) {
      const value = next[m.key];
      if (value !== undefined && value !== current[m.key]) {
        edits.push({ start: m.value.start, end: m.value.end, text: JSON.stringify(value) });
      }
    }
    return edits;
  }
  if (sameKeys && !props) return [];
  const json = JSON.stringify(next);
  if (props) return [{ start: props.start, end: props.end, text: json }];
  // No properties object yet: add one before the blob's closing brace.
  const close = blob.end - 1;
  const empty = !blob.members?.length;
  return [{ start: close, end: close, text: `${empty ? '' : ','}"properties":${json}` }];
}

const MAX_JSON_DEPTH = 256;

/** Locates the values of JSON text already validated by a parser; refuses duplicate keys. */
function scanJson(text: string, fileName: string): JsonSpan {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t'))
      i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  let depth = 0;
  const value = (): JsonSpan => {
    // Footers nest four levels; a bound keeps hostile nesting from exhausting the stack.
    if (++depth > MAX_JSON_DEPTH) throw new CorruptFileError(fileName, 'footer payload nests too deep');
    try {
      return valueAt();
    } finally {
      depth--;
    }
  };
  const valueAt = (): JsonSpan => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const members: { key: string; value: JsonSpan }[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { start, end: i, members };
      }
      const keys = new Set<string>();
      for (;;) {
        ws();
        const key = str();
        if (keys.has(key)) throw new CorruptFileError(fileName, `footer payload has the key "${key}" twice`);
        keys.add(key);
        ws();
        i++; // ':'
        members.push({ key, value: value() });
        ws();
        if (text[i++] === '}') return { start, end: i, members };
      }
    }
    if (c === '[') {
      i++;
      const items: JsonSpan[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { start, end: i, items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i++] === ']') return { start, end: i, items };
      }
    }
    if (c === '"') {
      str();
      return { start, end: i };
    }
    while (i < text.length && !',]} \n\r\t'.includes(text[i]!)) i++;
    if (i === start) throw new CorruptFileError(fileName, 'footer payload is not valid JSON');
    return { start, end: i };
  };
  return value();
}
