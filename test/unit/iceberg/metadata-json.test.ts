import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CorruptFileError, UnsupportedError } from '../../../src/errors.ts';
import { decodeMetadata, encodeMetadata, metadataVersionOf } from '../../../src/iceberg/metadata-json.ts';
import { jsonEquals, parseJson, stringifyJson } from '../../../src/util/json.ts';
import { impalaFixtures, walk } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const fixtureFiles = walk(impalaFixtures, (p) => p.endsWith('.metadata.json'));

/** Every integer literal of a JSON text, in order, as written. */
function integerLiterals(text: string): string[] {
  const out: string[] = [];
  // Strip strings first so digits inside them do not count.
  const noStrings = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of noStrings.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) out.push(m[0]);
  return out;
}

describe('metadata.json codec', requireFixtures(), () => {
  it('finds the fixture tables', () => {
    assert.ok(fixtureFiles.length >= 100, `expected the shared fixtures, found ${fixtureFiles.length} files`);
  });

  it('round-trips every fixture metadata file with all numbers exact', () => {
    for (const file of fixtureFiles) {
      const bytes = readFileSync(file);
      const doc = decodeMetadata(bytes, file);
      for (const gzip of [false, true]) {
        for (const pretty of [false, true]) {
          const out = encodeMetadata(doc.json, { gzip, pretty });
          const again = decodeMetadata(out, file);
          assert.ok(jsonEquals(doc.json, again.json), `${file}: re-encoded JSON differs`);
        }
      }
      // Every number literal survives verbatim, in order (snapshot ids above 2^53 included).
      const text = bytes.toString('utf8');
      const reText = new TextDecoder().decode(encodeMetadata(doc.json, { pretty: doc.pretty }));
      assert.deepEqual(
        integerLiterals(reText).sort(),
        integerLiterals(text).sort(),
        `${file}: numbers changed`,
      );
    }
  });

  it('keeps 64-bit ids exact', () => {
    const big =
      '{"format-version":2,"location":"/x","current-snapshot-id":9223372036854775807,"snapshots":[]}';
    const doc = decodeMetadata(new TextEncoder().encode(big), 'm.json');
    assert.equal(doc.metadata.currentSnapshotId, 9223372036854775807n);
    assert.equal(stringifyJson(doc.json), big);
  });

  it('reads gzip-compressed metadata', () => {
    const file = fixtureFiles[0]!;
    const gz = gzipSync(readFileSync(file));
    const doc = decodeMetadata(gz, 'v1.gz.metadata.json');
    assert.equal(doc.gzip, true);
    assert.ok(jsonEquals(doc.json, decodeMetadata(readFileSync(file), file).json));
  });

  it('keeps unknown fields', () => {
    const src = '{"format-version":2,"location":"/x","future-field":{"a":[1,2.50,"s"]},"snapshots":[]}';
    const doc = decodeMetadata(new TextEncoder().encode(src), 'm.json');
    assert.equal(stringifyJson(doc.json), src);
  });

  it('gives exact errors for bad input', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.throws(
      () => decodeMetadata(enc('not json'), 'v3.metadata.json'),
      (e: unknown) => {
        assert.ok(e instanceof CorruptFileError);
        assert.match((e as Error).message, /^v3\.metadata\.json: metadata is not valid JSON \(/);
        return true;
      },
    );
    assert.throws(
      () => decodeMetadata(enc('{"format-version":4,"location":"/x"}'), 'v9.metadata.json'),
      (e: unknown) =>
        e instanceof UnsupportedError &&
        e.message === 'v9.metadata.json: unsupported table format-version 4 (supported: 1, 2, 3)',
    );
    assert.throws(() => decodeMetadata(enc('{"format-version":2,"loc'), 't.json'), {
      message: /^t\.json: metadata is not valid JSON/,
    });
    assert.throws(() => decodeMetadata(new Uint8Array(0), 'e.json'), {
      message: 'e.json: empty metadata file',
    });
    assert.throws(() => decodeMetadata(enc('[1,2]'), 'a.json'), {
      message: 'a.json: metadata is not a JSON object',
    });
    assert.throws(() => decodeMetadata(enc('{"format-version":2}'), 'b.json'), {
      message: "b.json: table metadata lacks required field 'location'",
    });
    const gz = gzipSync(enc('{"format-version":2,"location":"/x"}')).subarray(0, 12);
    assert.throws(() => decodeMetadata(gz, 'c.gz.metadata.json'), {
      message: /^c\.gz\.metadata\.json: corrupt gzip-compressed metadata/,
    });
  });

  it('parses version numbers from file names', () => {
    assert.equal(metadataVersionOf('/t/metadata/v12.metadata.json'), 12);
    assert.equal(metadataVersionOf('/t/metadata/v3.gz.metadata.json'), 3);
    assert.equal(metadataVersionOf('s3://b/t/metadata/00007-0a1b.metadata.json'), 7);
    assert.equal(metadataVersionOf('/t/metadata/other.json'), undefined);
  });

  it('parses exact JSON', () => {
    assert.equal(parseJson('18446744073709551615'), 18446744073709551615n);
  });
});
