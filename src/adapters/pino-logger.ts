import { pino } from 'pino';
import type { Logger } from '../ports/logger.js';

/**
 * JSON lines on stdout (or the given stream). Keys that may carry secrets are
 * redacted as a second line of defence; the first is never logging values.
 */
export function createLogger(opts: { level?: string; name?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: opts.name ?? 'berth' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['secret', '*.secret', 'password', '*.password', 'token', '*.token', 'url', '*.url', 'env', '*.env', 'environment', '*.environment'], censor: '[hidden]' },
    },
    opts.stream ?? process.stdout,
  ) as unknown as Logger;
}
