import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who may read the dashboard and `/api/*`. On a loopback `--listen` only this
 * machine can connect: open. Beyond loopback a token is required
 * (BERTH_UI_TOKEN, as `Authorization: Bearer TOKEN` or Basic auth with the
 * token as the password, any user name — what a browser can prompt for);
 * with no token set those paths stay shut rather than open to the network.
 */
export type UiAccess = { kind: 'open' } | { kind: 'token'; token: string } | { kind: 'closed' };

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

export function uiAccess(listenHost: string, token: string | null | undefined): UiAccess {
  if (isLoopbackHost(listenHost)) return { kind: 'open' };
  return token ? { kind: 'token', token } : { kind: 'closed' };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compared through their hashes: constant time, whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function presentedToken(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (!auth) return null;
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth.trim());
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

export function checkUiAccess(access: UiAccess, headers: IncomingHttpHeaders): 'ok' | 'unauthorized' | 'closed' {
  if (access.kind === 'open') return 'ok';
  if (access.kind === 'closed') return 'closed';
  const given = presentedToken(headers);
  return given !== null && sameSecret(given, access.token) ? 'ok' : 'unauthorized';
}
