/**
 * How the CLI talks: human text on stdout, logs and progress on stderr, `--json` as the last stdout
 * line. Everything printed goes through the redaction of credentials (util/redact.ts).
 *
 * - `--quiet`: no progress, no info lines, no warnings; errors still print.
 * - `--log-format json`: stderr lines are JSON objects (`{"time","level","msg",...}`), progress
 *   included (as info lines, no bar).
 * - `--json`: stdout's last line is the report; stderr is unaffected by it.
 */
import cliProgress from 'cli-progress';
import type { AddFilesProgress } from '../addfiles/engine.ts';
import type { ProgressEvent } from '../table/progress.ts';
import { jsonLogger, type Logger, textLogger } from '../util/logger.ts';
import { redactSecrets } from '../util/redact.ts';

/** The formats of stderr lines (`--log-format`). */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Output settings shared by every command. */
export interface OutputOptions {
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly logFormat?: LogFormat;
}

/** The stderr logger for these settings. */
export function cliLogger(opts: OutputOptions): Logger {
  const level = opts.quiet ? 'error' : 'info';
  return opts.logFormat === 'json' ? jsonLogger({ level }) : textLogger({ level, prefix: 'iceberg-sync: ' });
}

/**
 * The output settings as far as they can be read from the raw arguments, for errors raised
 * before (or while) commander parses them.
 */
export function outputOptionsFromArgv(argv: readonly string[]): OutputOptions {
  let logFormat: LogFormat | undefined;
  argv.forEach((a, i) => {
    const v = a.startsWith('--log-format=')
      ? a.slice('--log-format='.length)
      : a === '--log-format'
        ? argv[i + 1]
        : undefined;
    if (v === 'json' || v === 'text') logFormat = v;
  });
  return {
    json: argv.includes('--json'),
    quiet: argv.includes('--quiet') || argv.includes('-q'),
    ...(logFormat ? { logFormat } : {}),
  };
}

/** Writes human output to stdout, credentials masked. */
export function printOut(text: string): void {
  process.stdout.write(`${redactSecrets(text)}\n`);
}

/** A progress reporter: a bar on a terminal (text logs), a log line per phase otherwise. */
export function progressReporter(
  opts: OutputOptions,
  logger: Logger,
): {
  onProgress: (e: ProgressEvent | AddFilesProgress) => void;
  stop: () => void;
} {
  if (opts.quiet) return { onProgress: () => {}, stop: () => {} };
  const tty = process.stderr.isTTY === true && opts.logFormat !== 'json';
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
          logger.info(
            { phase: e.phase, done: e.done, total: e.total },
            `  ${e.phase === 'rewrite' ? 'rewrote' : 'read'} ${e.done}/${e.total} ${e.message}`,
          );
        }
        return;
      }
      stop();
      if (e.message !== lastPhase) logger.info({ phase: e.phase }, `${e.phase}: ${e.message}`);
      lastPhase = e.message;
    },
    stop,
  };
}

/** Converts a report to JSON text (bigints as strings, credentials in strings masked). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? redactSecrets(v) : v,
  );
}
