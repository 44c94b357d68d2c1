import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (for a child `berth run --listen`). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
