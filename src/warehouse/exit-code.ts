/**
 * One exit code for a whole warehouse run. Each table contributes the code its single-table
 * command would have exited with; the run exits with the most urgent of them, in this order:
 *
 * | rank | code | why first |
 * | --- | --- | --- |
 * | 1 | 2 | configuration: nothing (or a table) can run until a person fixes the file or flags |
 * | 2 | 1 | internal error: a bug, report it |
 * | 3 | 9 | a DR catalog entry this tool did not write: a person decides |
 * | 4 | 4 | bad input: corrupt or unsupported replicated files, unmapped paths |
 * | 5 | 6 | storage or catalog service: missing files, permissions, unreachable storage or catalog |
 * | 6 | 5 | conflict: a commit lost its compare-and-swap |
 * | 7 | 7 | verify-all found problems |
 * | 8 | 8 | the run was stopped before every table ran |
 * | 9 | 3 | behind: replication still in flight, the newest complete versions are committed |
 * | 10 | 0 | every table committed, up to date, planned, verified or skipped |
 *
 * A table skipped because another run holds its lock contributes 0: that run syncs it.
 */
import { ExitCode } from '../errors.ts';
import type { WarehouseRunReport } from './types.ts';

/** The codes, most urgent first. */
export const EXIT_PRECEDENCE: readonly number[] = [
  ExitCode.USAGE,
  ExitCode.INTERNAL,
  ExitCode.CATALOG_DIVERGED,
  ExitCode.BAD_INPUT,
  ExitCode.STORAGE,
  ExitCode.CONFLICT,
  ExitCode.VERIFY_FAILED,
  ExitCode.ABORTED,
  ExitCode.BEHIND,
  ExitCode.OK,
];

/** The most urgent of `codes` by {@link EXIT_PRECEDENCE} (0 for none); an unknown code ranks as internal. */
export function aggregateExitCode(codes: Iterable<number>): number {
  let best = EXIT_PRECEDENCE.length - 1;
  for (const c of codes) {
    const rank = EXIT_PRECEDENCE.indexOf(c);
    best = Math.min(best, rank < 0 ? 1 : rank);
  }
  return EXIT_PRECEDENCE[best]!;
}

/** The run's `status` word for its exit code. */
export function runStatusFor(exitCode: number): WarehouseRunReport['status'] {
  if (exitCode === ExitCode.OK) return 'ok';
  if (exitCode === ExitCode.BEHIND) return 'behind';
  if (exitCode === ExitCode.ABORTED) return 'aborted';
  return 'failed';
}
