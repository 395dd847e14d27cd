/**
 * An inactivity limit for one storage call on an SDK that has none of its own (the Azure and
 * Google Cloud clients bound neither a stalled answer nor a stalled body): a signal that aborts
 * when nothing has happened for `idleMs`, or when the caller's signal aborts. Progress (a chunk
 * received or sent) rewinds the clock, so a slow but live transfer is never cut.
 */
export class Watchdog {
  readonly #controller = new AbortController();
  readonly #idleMs: number;
  readonly #caller: AbortSignal | undefined;
  readonly #onCallerAbort: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;

  constructor(idleMs: number, caller?: AbortSignal) {
    this.#idleMs = idleMs;
    this.#caller = caller;
    this.#onCallerAbort = () => this.#controller.abort(caller?.reason);
    if (caller?.aborted) this.#controller.abort(caller.reason);
    else caller?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.touch();
  }

  /** Aborts when the caller's signal does or when the call has been idle too long. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether it was the inactivity limit (not the caller) that aborted the call. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** The limit in whole seconds, for messages. */
  get idleSeconds(): number {
    return Math.round(this.#idleMs / 100) / 10;
  }

  /** Rewinds the clock: the call made progress. */
  touch(): void {
    if (this.#controller.signal.aborted) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new Error(`no progress for ${this.idleSeconds} s`));
    }, this.#idleMs);
    this.#timer.unref?.();
  }

  /** Stops the clock and lets go of the caller's signal. */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#caller?.removeEventListener('abort', this.#onCallerAbort);
  }
}

/**
 * Runs `fn` under a {@link Watchdog}, disposed when it settles. `fn` gets the watchdog, whose
 * signal it hands to the SDK and whose clock it rewinds on progress.
 */
export async function watched<T>(
  idleMs: number,
  caller: AbortSignal | undefined,
  fn: (w: Watchdog) => Promise<T>,
): Promise<T> {
  const w = new Watchdog(idleMs, caller);
  try {
    return await fn(w);
  } finally {
    w.dispose();
  }
}
