/**
 * The HTTP face of `watch`: `/healthz` (liveness), `/readyz` (readiness), `/metrics` (Prometheus),
 * `/status.json` and the status page at `/`. Read-only: nothing here changes what the loop does.
 * Bound to 127.0.0.1 unless told otherwise, since the page names tables and paths.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.ts';
import type { WarehouseMetrics } from '../metrics/metrics.ts';
import type { Logger } from '../util/logger.ts';
import { redactSecrets } from '../util/redact.ts';
import type { WatchState } from './loop.ts';
import { renderStatusPage } from './status-page.ts';

/** Options of {@link startWatchServer}. */
export interface WatchServerOptions {
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly state: () => WatchState;
  readonly metrics: WarehouseMetrics;
  readonly logger: Logger;
}

/** A listening server. */
export interface WatchServer {
  /** `http://host:port`, with the port actually bound (for port 0). */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(head ? undefined : body);
}

function stateJson(s: WatchState): string {
  // The engines' own per-table reports (up to a thousand missing files each) stay out: the run
  // report's figures are what a reader of this needs, and the run history keeps the rest.
  const lastReport = s.lastReport && {
    ...s.lastReport,
    tables: s.lastReport.tables.map(({ report: _r, ...t }) => t),
  };
  return redactSecrets(
    JSON.stringify(
      { ...s, ...(lastReport ? { lastReport } : {}), lagHistory: Object.fromEntries(s.lagHistory) },
      (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  );
}

async function handle(o: WatchServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', head);
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/healthz':
      // Liveness: the process answers. A long run is not a reason to restart it.
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
      return;
    case '/readyz': {
      const s = o.state();
      const why = s.ready
        ? 'ready'
        : s.phase === 'stopping' || s.phase === 'stopped'
          ? 'stopping'
          : 'first run not finished yet';
      send(res, s.ready ? 200 : 503, 'text/plain; charset=utf-8', `${why}\n`, head);
      return;
    }
    case '/metrics':
      send(res, 200, o.metrics.contentType, await o.metrics.text(), head);
      return;
    case '/status.json':
      send(res, 200, 'application/json; charset=utf-8', stateJson(o.state()), head);
      return;
    case '/':
    case '/index.html':
      send(res, 200, 'text/html; charset=utf-8', redactSecrets(renderStatusPage(o.state())), head);
      return;
    default:
      send(
        res,
        404,
        'text/plain; charset=utf-8',
        'not found: try /, /metrics, /healthz, /readyz, /status.json\n',
        head,
      );
  }
}

/** Starts listening; rejects with a ConfigError when the address cannot be bound. */
export async function startWatchServer(o: WatchServerOptions): Promise<WatchServer> {
  const host = o.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    handle(o, req, res).catch((err: unknown) => {
      o.logger.warn(`HTTP ${req.method} ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  // A scrape or browser keeps connections open; they must not hold the process at exit.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          `cannot listen on ${host}:${o.port} (--metrics-host/--metrics-port): ${err.code ?? err.message}`,
        ),
      ),
    );
    server.listen(o.port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
