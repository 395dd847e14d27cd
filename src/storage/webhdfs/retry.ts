import { abortableSleep, throwIfAborted } from '../../util/abort.ts';

/**
 * The one retry loop of the WebHDFS client: rounds of attempts separated by exponential backoff
 * with jitter. A round may itself try several NameNodes (failover); what it reports decides
 * whether another round follows.
 */

/** How many rounds, and how long to wait between them. */
export interface RetryPolicy {
  /** Rounds of attempts, the first included (at least 1). */
  readonly rounds: number;
  /** First backoff delay in milliseconds; doubled each round up to 10 s, with jitter. */
  readonly baseDelayMs: number;
  /** Stops the loop (before a round, or during a backoff) with `AbortedError`. */
  readonly signal?: AbortSignal;
}

/** What one round ends with: its value, or the failure after which the next round is tried. */
export type RoundOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: unknown };

/** The backoff before round `round` (1 for the first retry). */
export function backoffMs(baseDelayMs: number, round: number): number {
  const base = baseDelayMs * 2 ** (round - 1);
  return Math.min(base, 10_000) * (0.5 + Math.random() / 2);
}

/**
 * Runs `round` up to `policy.rounds` times with a backoff before each retry, and resolves the
 * first value a round gives. A round that throws ends the loop at once (a failure not worth
 * retrying). When every round failed, throws `exhausted(last failure)`.
 */
export async function retryRounds<T>(
  policy: RetryPolicy,
  round: (n: number) => Promise<RoundOutcome<T>>,
  exhausted: (last: unknown) => Error,
): Promise<T> {
  let last: unknown;
  for (let n = 0; n < policy.rounds; n++) {
    if (n > 0) await abortableSleep(backoffMs(policy.baseDelayMs, n), policy.signal);
    throwIfAborted(policy.signal);
    const outcome = await round(n);
    if (outcome.ok) return outcome.value;
    last = outcome.failure;
  }
  throw exhausted(last);
}
