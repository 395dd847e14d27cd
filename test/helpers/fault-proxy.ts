/**
 * A fault-injecting HTTP proxy in front of a real server: each request is shown to a rule that
 * may answer it instead of the server (a 503 storm), run something first (another writer's commit
 * between our load and our commit), or forward it and then replace the answer (a commit that
 * landed but whose answer was lost: 502). Everything else passes through unchanged.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** A request as the rule sees it. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  /** How many requests the proxy has seen before this one. */
  readonly seen: number;
}

/** What to do with one request. */
export type Fault =
  | {
      readonly respond: {
        readonly status: number;
        readonly headers?: Record<string, string>;
        readonly body?: string;
      };
    }
  | { readonly before: () => Promise<void> }
  | { readonly forwardThenRespond: { readonly status: number; readonly body?: string } };

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly uri: string;
  /** Every request seen, in order (method and path). */
  readonly log: string[];
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://host:port`) that applies `rule` to every request. */
export async function startFaultProxy(
  target: string,
  rule: (r: ProxiedRequest) => Fault | undefined,
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { readonly key: string; readonly cert: string },
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const log: string[] = [];
  const forward = (req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const r = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const seen = log.length;
      log.push(`${req.method} ${req.url}`);
      try {
        const fault = rule({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          body: body.toString('utf8'),
          headers: req.headers,
          seen,
        });
        if (fault && 'respond' in fault) {
          res.writeHead(fault.respond.status, {
            'content-type': 'application/json',
            ...fault.respond.headers,
          });
          res.end(fault.respond.body ?? '');
          return;
        }
        if (fault && 'before' in fault) await fault.before();
        const answer = await forward(req, body);
        if (fault && 'forwardThenRespond' in fault) {
          res.writeHead(fault.forwardThenRespond.status, { 'content-type': 'application/json' });
          res.end(fault.forwardThenRespond.body ?? '');
          return;
        }
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        headers['content-length'] = String(answer.body.length);
        res.writeHead(answer.status, headers);
        res.end(answer.body);
      } catch (err) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${(err as Error).message}`);
      }
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    uri: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
