/** The progress events every engine reports, for progress bars and log lines alike. */

/** One step of a run: its phase, what it is doing, and how far along (when it counts). */
export interface ProgressEvent {
  readonly phase: 'discover' | 'check' | 'rewrite' | 'commit';
  readonly message: string;
  readonly done?: number;
  readonly total?: number;
}
