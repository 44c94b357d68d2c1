import { connect } from 'node:net';

/**
 * HTTP/1.1 over a raw TCP socket, for tests that need what fetch will not
 * send: any method token, any path bytes, malformed or repeated headers,
 * bodies that trickle in, bodies larger than the server takes.
 */
export interface RawReply {
  /** Status of the first response; 0 when the server closed without answering. */
  status: number;
  /** Everything the server sent (at most 64 KiB kept). */
  text: string;
  /** From connect to the socket closing. */
  ms: number;
  /** From connect to the first byte of the answer; null when none came. */
  answeredMs: number | null;
  /** Bytes of the request actually written before the server answered or closed. */
  sent: number;
}

export interface RawPart {
  data: Buffer | string;
  /** Wait this long before writing this part (slow clients). */
  delayMs?: number;
}

/** `METHOD path HTTP/1.1` + headers + blank line. `Connection: close` unless the headers say otherwise. */
export function requestHead(method: string, path: string, headers: [string, string][]): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: berth.test'];
  if (!headers.some(([k]) => k.toLowerCase() === 'connection')) lines.push('Connection: close');
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A body in chunked transfer encoding, as parts of at most `size` bytes. */
export function chunked(body: Buffer, size = 64 * 1024): RawPart[] {
  const parts: RawPart[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push({ data: Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) });
  }
  parts.push({ data: '0\r\n\r\n' });
  return parts;
}

/** Split a buffer into parts of `size` bytes (a large body written as the socket drains). */
export function pieces(body: Buffer, size = 64 * 1024): RawPart[] {
  const parts: RawPart[] = [];
  for (let i = 0; i < body.length; i += size) parts.push({ data: body.subarray(i, i + size) });
  return parts;
}

/**
 * Write the parts in order (honouring back-pressure and delays), stop writing
 * once the server has answered or closed, and resolve when the socket closes.
 * Rejects only when the socket is still open after `timeoutMs`.
 */
export function rawExchange(port: number, parts: RawPart[], timeoutMs = 30_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let text = '';
    let sent = 0;
    let answered = false;
    let answeredMs: number | null = null;
    let closed = false;
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      if (!answered) answeredMs = Date.now() - t0;
      answered = true;
      if (text.length < 64 * 1024) text += d.toString('latin1');
    });
    // EPIPE/ECONNRESET once the server has answered and closed: expected, the reply is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, ms: Date.now() - t0, answeredMs, sent });
    });
    const write = async () => {
      for (const p of parts) {
        if (p.delayMs) await new Promise((r) => setTimeout(r, p.delayMs));
        if (answered || closed || socket.destroyed) return;
        const data = typeof p.data === 'string' ? Buffer.from(p.data, 'latin1') : p.data;
        sent += data.length;
        if (!socket.write(data)) {
          await new Promise<void>((r) => {
            const done = () => {
              socket.off('drain', done);
              socket.off('close', done);
              r();
            };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
      }
    };
    socket.once('connect', () => void write());
  });
}
