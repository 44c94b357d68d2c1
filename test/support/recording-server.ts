import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { recordCapture } from './capture.js';

export interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server that records what it receives (the stand-in for Slack, Discord, Teams, webhooks). */
export async function recordingServer(status: (req: Recorded) => number = () => 200): Promise<{ url: string; received: Recorded[]; close(): Promise<void> }> {
  const received: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(rec);
      // The body is what a chat would show; the path holds the URL token by design and is not output.
      recordCapture('chat body', rec.body);
      res.statusCode = status(rec);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((r) => server.close(() => r())) };
}
