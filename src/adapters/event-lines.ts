import type { Readable } from 'node:stream';

/**
 * The Engine's `GET /events` body: one JSON object per line, for as long as the
 * stream lives. Both event adapters (containers, networks and volumes; swarm
 * services and nodes) read it the same way: each parsed line to `onValue`; an
 * unparsable line, a stream error, its end or its close to `fail` once each
 * (callers stop at the first). `what` names the stream in those errors;
 * `streamError` turns a stream error into the caller's error type.
 */
export function readEventLines(
  stream: Readable,
  what: string,
  onValue: (value: unknown) => void,
  fail: (err: Error) => void,
  streamError: (err: Error) => Error = (err) => new Error(`${what}: ${err.message}`),
): void {
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        fail(new Error(`${what}: unparsable line: ${line.slice(0, 200)}`));
        return;
      }
      onValue(value);
    }
  });
  stream.on('error', (err: Error) => fail(streamError(err)));
  stream.on('end', () => fail(new Error(`${what}: the engine closed the event stream`)));
  stream.on('close', () => fail(new Error(`${what}: the event stream closed`)));
}
