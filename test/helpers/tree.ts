/**
 * Byte-level fingerprints of a directory tree, to show that a run wrote nothing: every entry
 * (directories included), the SHA-256 of every file's content, the text of every symlink (never
 * followed), and the mode bits.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';

/** Relative path → `dir <mode>`, `file <mode> <sha256>` or `link <target>`, for every entry below `dir`. */
export function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const rel = path.relative(dir, p);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${mode}`);
        visit(p);
      } else if (st.isFile()) {
        out.set(rel, `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      } else out.set(rel, `other ${st.mode.toString(8)}`);
    }
  };
  visit(dir);
  return out;
}

/** The differences between two digests, one line each (empty when the trees are identical). */
export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [k, v] of before) {
    const now = after.get(k);
    if (now === undefined) changes.push(`removed ${k}`);
    else if (now !== v) changes.push(`changed ${k}: ${v} -> ${now}`);
  }
  for (const k of after.keys()) if (!before.has(k)) changes.push(`created ${k}`);
  return changes;
}
