import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import type { DockerConnection } from './docker-connection.js';

const requireHere = createRequire(import.meta.url);

/**
 * A plain JSON GET to the engine over the unix socket or tcp(+TLS): the four
 * list calls of a pass. Loading dockerode (and the ssh2/grpc/protobuf stack it
 * pulls in) costs several times longer than a whole no-op pass, so the read
 * path does not use it; everything else goes through dockerode. ssh endpoints
 * have no fast path (null).
 */
export type EngineGet = <T>(path: string) => Promise<T>;

export class EngineHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function engineGetter(conn: DockerConnection): EngineGet | null {
  const ep = conn.endpoint;
  let base: RequestOptions;
  let request = httpRequest;
  if (ep.kind === 'unix') base = { socketPath: ep.socketPath };
  else if (ep.kind === 'tcp') {
    base = { host: ep.host, port: ep.port };
    if (ep.tls) {
      // node:https (and tls) load only for a TLS engine: a no-op pass over the local socket never needs them.
      request = (requireHere('node:https') as typeof import('node:https')).request;
      base = {
        ...base,
        ca: ep.tls.verify ? readFileSync(ep.tls.caPath) : undefined,
        cert: readFileSync(ep.tls.certPath),
        key: readFileSync(ep.tls.keyPath),
        rejectUnauthorized: ep.tls.verify,
      } as RequestOptions;
    }
  } else return null;

  return <T>(path: string) =>
    new Promise<T>((resolve, reject) => {
      const req = request({ ...base, path, method: 'GET', headers: { Host: 'docker', Accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 400) {
            let message = text.trim();
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              /* plain text error */
            }
            reject(new EngineHttpError(res.statusCode ?? 500, message));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch (e) {
            reject(e as Error);
          }
        });
      });
      req.on('error', reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`engine did not answer GET ${path} within 60 s`)));
      req.end();
    });
}
