/**
 * Metadata file names against their codec: readers pick the codec from the name (Java Iceberg's
 * `Codec.fromFileName`, PyIceberg's `Compressor.get_compressor`), so a name must claim the codec
 * the content has, in both.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  metadataNameFor,
  metadataNameMismatch,
  readersTakeNameAsGzip,
} from '../../../src/iceberg/metadata-json.ts';

describe('metadata file names and codecs', () => {
  it('reads names as Java Iceberg and PyIceberg do', () => {
    assert.deepEqual(readersTakeNameAsGzip('/t/metadata/v8.metadata.json'), {
      java: false,
      pyiceberg: false,
    });
    assert.deepEqual(readersTakeNameAsGzip('/t/metadata/v8.gz.metadata.json'), {
      java: true,
      pyiceberg: true,
    });
    // The legacy spelling: Java still reads it as gzip, PyIceberg as plain JSON.
    assert.deepEqual(readersTakeNameAsGzip('/t/metadata/v8.metadata.json.gz'), {
      java: true,
      pyiceberg: false,
    });
    assert.deepEqual(readersTakeNameAsGzip('s3://b/t/00012-6b1c.gz.metadata.json'), {
      java: true,
      pyiceberg: true,
    });
  });

  it('names an output for its content, keeping the rest of the source name', () => {
    for (const name of ['v8.metadata.json', 'v8.gz.metadata.json', 'v8.metadata.json.gz']) {
      assert.equal(metadataNameFor(name, false), 'v8.metadata.json', name);
      assert.equal(metadataNameFor(name, true), 'v8.gz.metadata.json', name);
    }
    assert.equal(metadataNameFor('00003-1f2e.metadata.json', true), '00003-1f2e.gz.metadata.json');
    assert.equal(metadataNameFor('current.json', false), 'current.json.metadata.json');
  });

  it('every name it gives is read with the right codec by both readers', () => {
    for (const name of [
      'v1.metadata.json',
      'v1.gz.metadata.json',
      'v1.metadata.json.gz',
      '00001-x.metadata.json',
    ]) {
      for (const gzip of [false, true]) {
        const out = metadataNameFor(name, gzip);
        assert.deepEqual(readersTakeNameAsGzip(out), { java: gzip, pyiceberg: gzip }, out);
        assert.equal(metadataNameMismatch(`/dr/${out}`, gzip), undefined, out);
      }
    }
  });

  it('says which reader a lying name defeats, and the name that would fit', () => {
    assert.equal(metadataNameMismatch('/dr/v8.metadata.json', false), undefined);
    assert.equal(metadataNameMismatch('/dr/v8.gz.metadata.json', true), undefined);
    const plainAsGz = metadataNameMismatch('/dr/v8.gz.metadata.json', false);
    assert.match(
      plainAsGz ?? '',
      /plain \(uncompressed\) JSON but Java Iceberg and PyIceberg would read it as gzip/,
    );
    assert.match(plainAsGz ?? '', /v8\.metadata\.json$/);
    const gzAsPlain = metadataNameMismatch('/dr/v8.metadata.json', true);
    assert.match(
      gzAsPlain ?? '',
      /gzip-compressed JSON but Java Iceberg and PyIceberg would read it as plain/,
    );
    assert.match(gzAsPlain ?? '', /v8\.gz\.metadata\.json$/);
    // Legacy .metadata.json.gz: right for Java, wrong for PyIceberg when gzip; wrong for Java when plain.
    assert.match(metadataNameMismatch('/dr/v8.metadata.json.gz', true) ?? '', /but PyIceberg would read it/);
    assert.match(
      metadataNameMismatch('/dr/v8.metadata.json.gz', false) ?? '',
      /but Java Iceberg would read it/,
    );
  });
});
