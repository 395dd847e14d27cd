/**
 * The one logging seam of the library and the CLI: engines, catalogs and storage backends take a
 * {@link Logger} instead of writing to the process, so that the CLI's `--quiet`, `--json` and
 * `--log-format json` hold everywhere.
 *
 * The shape is pino's (`logger.warn('text')` or `logger.warn({ path }, 'text')`), so a pino logger
 * (or `console`, for the message-only form) can be passed wherever a `Logger` is taken. JSON lines
 * are written by pino itself; the human text lines (`iceberg-sync: warning: ...`) are a few lines
 * of our own, since pino formats text only through a separate transport.
 */
import { pino } from 'pino';
import { redactSecrets } from './redact.ts';

/** One log method: a message, or fields and a message, as pino takes them. */
export interface LogFn {
  (msg: string): void;
  (fields: Readonly<Record<string, unknown>>, msg: string): void;
}

/** Where the library's warnings, progress lines and debug notes go. */
export interface Logger {
  readonly error: LogFn;
  readonly warn: LogFn;
  readonly info: LogFn;
  readonly debug: LogFn;
}

/** Levels from most to least severe; a sink writes its level and those before it. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of the stream sinks. */
export interface SinkOptions {
  /** The least severe level written (default `info`); `silent` writes nothing. */
  readonly level?: LogLevel | 'silent';
  /** Where lines go (default `process.stderr`). */
  readonly stream?: { write(text: string): unknown };
  /** Text sink: put before error and warning lines (the CLI's `iceberg-sync: `). */
  readonly prefix?: string;
}

type Line = (level: LogLevel, fields: Readonly<Record<string, unknown>>, msg: string) => string;

function sink(options: SinkOptions, line: Line): Logger {
  const limit = options.level === 'silent' ? -1 : LOG_LEVELS.indexOf(options.level ?? 'info');
  const fn = (level: LogLevel): LogFn => {
    if (LOG_LEVELS.indexOf(level) > limit) return () => {};
    return ((a: string | Readonly<Record<string, unknown>>, b?: string) => {
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [a, b ?? ''];
      // Messages carry paths and URLs: credentials in them never reach the output.
      (options.stream ?? process.stderr).write(`${redactSecrets(line(level, fields, msg))}\n`);
    }) as LogFn;
  };
  return { error: fn('error'), warn: fn('warn'), info: fn('info'), debug: fn('debug') };
}

/**
 * Human lines: `warning: ...`, `error: ...`, `debug: ...`, info lines as they are. Fields are for
 * machines and left out, except a `stack`, printed below the message.
 */
export function textLogger(options: SinkOptions = {}): Logger {
  return sink(options, (level, fields, msg) => {
    const stack = typeof fields.stack === 'string' ? `\n${fields.stack}` : '';
    const tag = level === 'warn' ? 'warning' : level;
    const prefix = level === 'info' ? '' : `${level === 'debug' ? '' : (options.prefix ?? '')}${tag}: `;
    return `${prefix}${msg}${stack}`;
  });
}

/**
 * JSON lines, by pino: `{"level":"warn","time":"<ISO 8601>",...fields,"msg":"..."}`, written
 * synchronously (an exit right after a line loses nothing), bigints as strings (64-bit ids never
 * pass through a JS number), every line masked as a whole before it is written.
 */
export function jsonLogger(options: SinkOptions = {}): Logger {
  const p = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => withoutBigints(fields) as Record<string, unknown>,
      },
      hooks: { streamWrite: (line) => redactSecrets(line) },
    },
    // Looked up at each line, as the text sink does, so a replaced stderr is honoured.
    { write: (line: string) => (options.stream ?? process.stderr).write(line) },
  );
  const fn = (level: LogLevel): LogFn =>
    ((a: string | Readonly<Record<string, unknown>>, b?: string) =>
      typeof a === 'string' ? p[level](a) : p[level](a, b ?? '')) as LogFn;
  return { error: fn('error'), warn: fn('warn'), info: fn('info'), debug: fn('debug') };
}

function withoutBigints(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(withoutBigints);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutBigints(x)]));
  }
  return v;
}

/** Writes nothing. */
export const silentLogger: Logger = textLogger({ level: 'silent' });

/**
 * The logger of library calls given none: warnings and errors as text on stderr (what
 * `process.emitWarning` used to show, without Node's prefix); no progress or debug lines.
 */
export const defaultLogger: Logger = textLogger({ level: 'warn' });

/**
 * A logger that adds `bindings` to every line (a warehouse run's `runId`, a table), as pino's
 * `child` does; works over any {@link Logger}. A line's own fields win over the bindings.
 */
export function childLogger(logger: Logger, bindings: Readonly<Record<string, unknown>>): Logger {
  // Called as methods of `logger`: a pino logger needs its `this`.
  const bind = (level: LogLevel): LogFn =>
    ((a: string | Readonly<Record<string, unknown>>, b?: string) =>
      typeof a === 'string'
        ? logger[level](bindings, a)
        : logger[level]({ ...bindings, ...a }, b ?? '')) as LogFn;
  return { error: bind('error'), warn: bind('warn'), info: bind('info'), debug: bind('debug') };
}
