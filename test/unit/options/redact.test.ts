/** Credentials in URLs never reach a message: userinfo passwords and secret query parameters. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUri } from '../../../src/catalog/sql/index.ts';
import { NotFoundError, StorageError } from '../../../src/errors.ts';
import { isSecretName, redactSecrets, redactUrl } from '../../../src/util/redact.ts';

describe('redactSecrets', () => {
  it('masks the password of a URL userinfo, up to the authority’s last @', () => {
    assert.equal(redactUrl('http://user:SECRET@host:9000'), 'http://user:***@host:9000');
    assert.equal(redactUrl('postgresql://u:p@ss@h:5432/db'), 'postgresql://u:***@h:5432/db');
    assert.equal(
      redactSecrets('cannot reach http://a:X@h1 or https://b:Y@h2/p: refused'),
      'cannot reach http://a:***@h1 or https://b:***@h2/p: refused',
    );
  });

  it('masks secret query parameters of every backend, plain and percent-encoded', () => {
    const cases: [string, string][] = [
      [
        'http://dn:9864/webhdfs/v1/f?op=OPEN&delegation=HAAH123&offset=0',
        'http://dn:9864/webhdfs/v1/f?op=OPEN&delegation=***&offset=0',
      ],
      [
        'https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F2025&X-Amz-Signature=ff00&X-Amz-Expires=60',
        'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=60',
      ],
      [
        'https://acct.blob.core.windows.net/c/x?sv=2022&sp=r&sig=ab%2Bc%3D',
        'https://acct.blob.core.windows.net/c/x?sv=2022&sp=r&sig=***',
      ],
      ['jdbc:postgresql://h/db?user=u&password=pw', 'jdbc:postgresql://h/db?user=u&password=***'],
      ['https://h/x?token=abc&access_token=def', 'https://h/x?token=***&access_token=***'],
      ['http://h/v1/a%3Fdelegation%3DTOK', 'http://h/v1/a%3Fdelegation%3D***'],
      ['failed: http://h/x?sig=abc: refused', 'failed: http://h/x?sig=***: refused'],
    ];
    for (const [text, masked] of cases) assert.equal(redactSecrets(text), masked);
  });

  it('leaves paths and harmless parameters alone', () => {
    for (const text of [
      '/wh/db/t/data/year=2024/part-0.parquet',
      's3://bucket/key@with:colon',
      'hdfs://nn:8020/wh?op=LISTSTATUS&user.name=etl',
      'http://host:9000',
      'mailto:a@b.c',
    ]) {
      assert.equal(redactSecrets(text), text);
    }
  });

  it('knows secret setting names', () => {
    for (const n of [
      's3.secret-access-key',
      's3.session-token',
      'hdfs.delegation-token',
      'jdbc.password',
      'sig',
    ])
      assert.ok(isSecretName(n), n);
    for (const n of ['s3.access-key-id', 's3.endpoint', 'concurrency', 'user.name'])
      assert.ok(!isSecretName(n), n);
  });

  it('is what the SQL catalog masks its URIs with', () => {
    assert.equal(redactUri('postgresql://u:secret@h/db'), 'postgresql://u:***@h/db');
  });
});

describe('error messages', () => {
  it('are masked where they are made, for library callers too', () => {
    const e = new StorageError('s3://b/k: cannot reach http://u:SECRET@h:1/?X-Amz-Signature=SIG: refused');
    assert.equal(e.message, 's3://b/k: cannot reach http://u:***@h:1/?X-Amz-Signature=***: refused');
    assert.equal(
      new NotFoundError('webhdfs://u:SECRET@h/f').path,
      'webhdfs://u:SECRET@h/f',
      'the path itself is kept',
    );
  });
});
