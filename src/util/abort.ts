/** Cooperative cancellation: turning an aborted `AbortSignal` into this library's typed error. */
import { AbortedError } from '../errors.ts';

/** The {@link AbortedError} for an aborted signal (its reason, when already one, as is). */
export function abortedError(signal: AbortSignal, what?: string): AbortedError {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortedError) return reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  const detail = [
    what ? `${what}: aborted` : 'aborted',
    why && why !== 'This operation was aborted' ? why : '',
  ]
    .filter((s) => s !== '')
    .join(': ');
  return new AbortedError(detail, { cause: reason });
}

/** Throws {@link AbortedError} when `signal` is aborted; a check between the steps of a run. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortedError(signal, what);
}

/** `ms` milliseconds, cut short with {@link AbortedError} when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((r) => setTimeout(r, ms));
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `p`, or a rejection with the signal's reason as soon as `signal` aborts: for SDK calls that take
 * no signal (the call is left to finish, its result dropped).
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
