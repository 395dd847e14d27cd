/**
 * Child process of the cross-process race in sql.test.ts: opens the SQLite catalog given as
 * argv[2], waits until argv[3] (a start time in ms) so that all children collide, commits
 * argv[4] over the expected location argv[5], and prints `won` or `lost`.
 */
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { CommitConflictError } from '../../../src/errors.ts';

const [file, startAt, mine, expected] = process.argv.slice(2) as [string, string, string, string];
const cat = await SqlCatalog.open({ name: 'dr', uri: `jdbc:sqlite:${file}` });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
try {
  await cat.commitTable({ namespace: ['db'], name: 't1' }, expected, mine);
  process.stdout.write('won');
} catch (err) {
  if (!(err instanceof CommitConflictError)) throw err;
  process.stdout.write('lost');
} finally {
  await cat.close();
}
