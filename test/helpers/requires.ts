/**
 * What a test needs from outside the repository (the shared Impala fixtures, a server), and the
 * one rule for when it is missing: locally, the tests that need it are skipped with one visible
 * line saying what is missing and why; in CI (CI=true, as .ci/run sets it) a missing
 * requirement is a failure, so a CI run can never pass by skipping.
 *
 * Use the result as the options of the `describe` or `test` that needs it:
 * `describe('...', requireFixtures(), () => { ... })`.
 */
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { impalaFixtures } from './paths.ts';

/** Whether this run is CI, where skipping for a missing requirement fails the run. */
export const inCI = process.env.CI === 'true';

const reported = new Set<string>();

/**
 * The options for tests that need `what`, missing for `reason` (false: it is there). A missing
 * requirement is reported once per test file: as a skipped test locally (so the summary counts
 * it), as a failed test in CI.
 */
export function requirement(what: string, reason: string | false): { skip: string | false } {
  if (reason === false) return { skip: false };
  if (!reported.has(what)) {
    reported.add(what);
    if (inCI) {
      test(`requires ${what}`, () => {
        throw new Error(`${what} is missing: ${reason} (CI=true: a skipped suite fails the run)`);
      });
    } else {
      test(`requires ${what}`, { skip: reason }, () => {});
    }
  }
  return { skip: reason };
}

/** The shared Impala fixtures (beside the repository in `shared/fixtures`, or IMSYNC_FIXTURES). */
export function requireFixtures(): { skip: string | false } {
  return requirement(
    'the shared Impala fixtures',
    existsSync(impalaFixtures)
      ? false
      : `no fixtures at ${impalaFixtures} (set IMSYNC_FIXTURES, or put them in ../shared/fixtures)`,
  );
}

/** A test server (S3, HDFS, PostgreSQL), given the helper's reason why it is not there. */
export function requireServer(server: string, reason: string | false): { skip: string | false } {
  return requirement(`the ${server} test server`, reason);
}
