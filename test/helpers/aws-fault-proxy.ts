/**
 * A loopback HTTP proxy in front of a real server (the Glue emulator), for fault tests: it forwards
 * every request unchanged, and on cue answers some with AWS's throttling error instead, forwards one
 * but drops the connection before the answer reaches the client (the request took effect, the
 * client cannot know), or goes down altogether. Requests are counted by their `X-Amz-Target`
 * operation (`UpdateTable`).
 */
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** A running fault proxy. */
export interface FaultProxy {
  /** The proxy's endpoint, to give the client instead of the server's. */
  readonly endpoint: string;
  /** Requests seen, by operation. */
  readonly seen: Map<string, number>;
  /** Answers the next `n` requests of `operation` (any, when omitted) with ThrottlingException. */
  throttle(n: number, operation?: string): void;
  /** Answers the next `n` requests of `operation` (any, when omitted) with the AWS error `type`. */
  fail(n: number, type: string, operation?: string): void;
  /** Forwards the next request of `operation`, then drops the connection instead of answering. */
  loseAnswer(operation: string): void;
  /** Stops answering: every open and new connection is dropped. */
  down(): void;
  close(): Promise<void>;
}

function operationOf(target: string | string[] | undefined): string {
  const t = Array.isArray(target) ? target[0] : target;
  return t?.split('.').at(-1) ?? 'unknown';
}

/** Starts a proxy to `target` (`http://127.0.0.1:port`) on a free loopback port. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const seen = new Map<string, number>();
  let failing = 0;
  let failOp: string | undefined;
  let failType = 'ThrottlingException';
  const lose = new Set<string>();
  let isDown = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const op = operationOf(req.headers['x-amz-target']);
    seen.set(op, (seen.get(op) ?? 0) + 1);
    if (isDown) {
      req.socket.destroy();
      return;
    }
    if (failing > 0 && (failOp === undefined || failOp === op)) {
      failing--;
      req.resume();
      const body = JSON.stringify({ __type: failType, message: `${failType} (fault proxy)` });
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-errortype': failType,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const dropAnswer = lose.delete(op);
    const fwd = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        if (dropAnswer) {
          up.resume();
          up.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', () => req.socket.destroy());
    req.pipe(fwd);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    throttle(n, operation) {
      failing = n;
      failOp = operation;
      failType = 'ThrottlingException';
    },
    fail(n, type, operation) {
      failing = n;
      failOp = operation;
      failType = type;
    },
    loseAnswer(operation) {
      lose.add(operation);
    },
    down() {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
