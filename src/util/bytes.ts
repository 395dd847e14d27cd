/** Byte-array helpers shared by the codecs and the storage layer. */

/** One array holding `parts` end to end; `total` (their summed length) may be given when known. */
export function concatBytes(
  parts: readonly Uint8Array[],
  total: number = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
