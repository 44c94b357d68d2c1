import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Socket } from 'node:net';

/**
 * A registry that stops answering: `GET /v2/` says "registry/2.0" (so the
 * engine goes on to the manifest), and every other request is accepted and
 * never answered — the stall that Engine 20.10 waits on forever. TLS hellos
 * are refused at once so the engine falls back to plain HTTP on loopback
 * without its 10 s handshake timeout.
 */
export interface StallingRegistry {
  host: string;
  /** Requests that were left hanging, in arrival order (`HEAD /v2/…/manifests/v1`). */
  stalled: string[];
  close(): Promise<void>;
}

export async function stallingRegistry(): Promise<StallingRegistry> {
  const stalled: StallingRegistry['stalled'] = [];
  const sockets = new Set<Socket>();
  const http = createHttpServer((req: IncomingMessage, res) => {
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    stalled.push(`${req.method} ${req.url}`);
  });
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      if (first[0] === 0x16) return socket.destroy();
      socket.pause();
      socket.unshift(first);
      http.emit('connection', socket);
      socket.resume();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    stalled,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
