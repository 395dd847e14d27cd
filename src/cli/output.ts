/** How the CLI talks: human text on stdout, logs and progress on stderr, `--json` as the last stdout line. */
import cliProgress from 'cli-progress';
import type { AddFilesProgress } from '../addfiles/engine.ts';
import type { ProgressEvent } from '../sync/engine.ts';

/** Output settings shared by every command. */
export interface OutputOptions {
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** Writes a line to stderr unless quiet. */
export function log(opts: OutputOptions, line: string): void {
  if (!opts.quiet) process.stderr.write(`${line}\n`);
}

/** A progress reporter: a bar on a terminal, a line per phase otherwise. */
export function progressReporter(opts: OutputOptions): {
  onProgress: (e: ProgressEvent | AddFilesProgress) => void;
  stop: () => void;
} {
  if (opts.quiet) return { onProgress: () => {}, stop: () => {} };
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let barLabel = '';
  let lastPhase = '';
  let lastLogged = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress: (e) => {
      if (e.total !== undefined && e.done !== undefined) {
        if (tty) {
          if (!bar || barLabel !== e.message) {
            stop();
            barLabel = e.message;
            bar = new cliProgress.SingleBar(
              {
                format: `  ${e.phase === 'rewrite' ? 'rewriting' : 'reading'} ${e.message} [{bar}] {value}/{total}`,
                stream: process.stderr,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(e.total, e.done);
          } else bar.update(e.done);
          if (e.done === e.total) stop();
        } else if (e.done === e.total || Date.now() - lastLogged > 5000) {
          lastLogged = Date.now();
          log(opts, `  ${e.phase === 'rewrite' ? 'rewrote' : 'read'} ${e.done}/${e.total} ${e.message}`);
        }
        return;
      }
      stop();
      if (e.message !== lastPhase) log(opts, `${e.phase}: ${e.message}`);
      lastPhase = e.message;
    },
    stop,
  };
}

/** Converts a report to JSON text (bigints as strings). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}
