/**
 * SIGTERM and SIGINT for the CLI: the first one stops a run cleanly (a one-table command is aborted
 * through its AbortSignal and exits 8 with the catalog at its last commit; `watch` finishes the
 * tables in flight and exits 0), a repeated one escalates (see {@link onStopSignals}).
 */
import { constants } from 'node:os';

/** The signals that stop a run: a Kubernetes pod's stop, systemd's stop, Ctrl-C. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Calls `handlers[n]` on the n-th stop signal (`handlers[0]` on the first, ...); once they run out,
 * the process exits at once with 128 + the signal's number, as an unhandled signal would.
 * Returns a function that removes the handlers.
 */
export function onStopSignals(handlers: readonly ((signal: StopSignal) => void)[]): () => void {
  let received = 0;
  const listener = (signal: StopSignal) => {
    const handler = handlers[received++];
    if (handler) handler(signal);
    else process.exit(128 + constants.signals[signal]);
  };
  for (const s of STOP_SIGNALS) process.on(s, listener);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, listener);
  };
}

/**
 * Runs `fn` with a signal that the first SIGTERM or SIGINT aborts (the run stops at its next step
 * and fails with AbortedError: exit code 8); a second one exits at once.
 */
export async function withStopSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const off = onStopSignals([(s) => controller.abort(new Error(`${s} received`))]);
  try {
    return await fn(controller.signal);
  } finally {
    off();
  }
}
