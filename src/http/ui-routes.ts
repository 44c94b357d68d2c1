import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveFeed } from '../ui/feed.js';

/**
 * The dashboard's routes: the page, its three files and the live feed. All
 * of it is served by berth from memory — no CDN, font or analytics request
 * (air-gapped hosts) — under a CSP that allows nothing but this origin's own
 * files and the feed, and forbids inline script, framing and forms.
 */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  type: string;
  body: string;
  etag: string;
}

const asset = (type: string, body: string): Asset => ({ type, body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });

/**
 * The page and its files, loaded on the first request for one of them: a `berth run` nobody
 * opens the dashboard of does not hold them (their non-ASCII text also made V8 keep the whole
 * bundle chunk they were in as a two-byte string).
 */
export async function uiAssets(): Promise<Map<string, Asset>> {
  const [{ APP_CSS }, { APP_JS }, { FAVICON_SVG }, { INDEX_HTML }] = await Promise.all([
    import('../ui/page/app-css.js'),
    import('../ui/page/app-js.js'),
    import('../ui/page/favicon-svg.js'),
    import('../ui/page/index-html.js'),
  ]);
  return new Map([
    ['/', asset('text/html; charset=utf-8', INDEX_HTML)],
    ['/ui/app.js', asset('text/javascript; charset=utf-8', APP_JS)],
    ['/ui/app.css', asset('text/css; charset=utf-8', APP_CSS)],
    ['/ui/favicon.svg', asset('image/svg+xml', FAVICON_SVG)],
  ]);
}

/** Paths that show host state: behind the UI token beyond loopback. */
export function isUiPath(path: string): boolean {
  return path === '/' || path.startsWith('/ui/') || path.startsWith('/api/');
}

/** Serve `path` when it is the page, one of its files or the feed; false when it is none of those. */
export async function serveUi(req: IncomingMessage, res: ServerResponse, path: string, assets: () => Promise<Map<string, Asset>>, feed: LiveFeed): Promise<boolean> {
  if (path === '/api/events') {
    feed.attach(res);
    return true;
  }
  if (path !== '/' && !path.startsWith('/ui/')) return false; // /api/*: not a file of the page
  const a = (await assets()).get(path);
  if (!a) return false;
  // Revalidated on every load (no-cache), so a new berth never serves a page against an old script.
  const headers = { ...SECURITY_HEADERS, 'content-type': a.type, 'cache-control': 'no-cache', etag: a.etag };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(a.body)) });
  res.end(req.method === 'HEAD' ? undefined : a.body);
  return true;
}
