import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook verification and push parsing: pure functions of headers and the raw
 * body, no I/O. The server (server.ts) decides the HTTP answers.
 *
 * What the forges send (header names are case-insensitive; node lowercases them):
 *
 *  - GitHub — "Validating webhook deliveries",
 *    https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries :
 *    `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; compare in
 *    constant time. Event name in `X-GitHub-Event` ("push", "ping" when a hook is
 *    created, …) — https://docs.github.com/en/webhooks/webhook-events-and-payloads .
 *    A push payload has `ref: "refs/heads/<branch>"` (or `refs/tags/<tag>`). With the
 *    hook's content type `application/x-www-form-urlencoded` the JSON is in the
 *    `payload` form field, and the signature covers the form-encoded body.
 *
 *  - Gitea (and Forgejo) — https://docs.gitea.com/usage/webhooks and
 *    services/webhook/deliver.go in go-gitea/gitea: `X-Gitea-Signature: <hex
 *    HMAC-SHA256(secret, body)>` (no prefix); event in `X-Gitea-Event`. For GitHub
 *    compatibility Gitea *also* sends `X-GitHub-Event` and `X-Hub-Signature-256:
 *    sha256=<same hex>`, so a delivery carrying X-Gitea-Signature is treated as Gitea.
 *    Push payload: `ref: "refs/heads/<branch>"`.
 *
 *  - GitLab — https://docs.gitlab.com/user/project/integrations/webhooks/ ("Secret
 *    token") and .../webhook_events/ ("Push events"): the secret itself in
 *    `X-Gitlab-Token` (no HMAC); event in `X-Gitlab-Event` ("Push Hook", "Tag Push
 *    Hook", "System Hook" for instance hooks whose body says `object_kind`/`event_name`
 *    "push"). Push payload: `object_kind: "push"`, `ref: "refs/heads/<branch>"`.
 *
 * Nothing here ever puts a secret, a signature or a body into a returned reason.
 */

export type Provider = 'github' | 'gitea' | 'gitlab';
export type Headers = Record<string, string | string[] | undefined>;

export type VerifyResult = { ok: true; provider: Provider } | { ok: false; reason: string };

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Case-insensitive single-valued header; a repeated header counts as malformed (`null`). */
export function header(headers: Headers, name: string): string | undefined | null {
  let found: string | string[] | undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) {
      if (found !== undefined) return null;
      found = v;
    }
  }
  if (Array.isArray(found)) return found.length === 1 ? found[0] : null;
  return found;
}

/** HMAC-SHA256(secret, body) against a 64-hex-digit signature, in constant time. */
function hmacMatches(hex: string, rawBody: Buffer, secret: string): boolean {
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(hex, 'hex'); // 32 bytes: the format was checked
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A plain token against the secret without leaking its length or contents through
 * timing: both sides are hashed to 32 bytes first, so timingSafeEqual always runs on
 * equal-length buffers and a length mismatch costs the same as any other mismatch.
 */
function tokenMatches(token: string, secret: string): boolean {
  const a = createHash('sha256').update(token, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Authenticate a delivery. The provider is chosen by the credential header present,
 * in the order Gitea, GitHub, GitLab; the first one present decides — a bad Gitea
 * signature is not rescued by another header.
 */
export function verifyWebhook(headers: Headers, rawBody: Buffer, secret: string): VerifyResult {
  if (secret === '') return { ok: false, reason: 'no webhook secret configured' };

  const gitea = header(headers, 'x-gitea-signature');
  if (gitea !== undefined) {
    if (gitea === null || !HEX64.test(gitea.trim())) return { ok: false, reason: 'malformed X-Gitea-Signature' };
    return hmacMatches(gitea.trim(), rawBody, secret) ? { ok: true, provider: 'gitea' } : { ok: false, reason: 'X-Gitea-Signature does not match' };
  }

  const github = header(headers, 'x-hub-signature-256');
  if (github !== undefined) {
    const m = github === null ? null : /^sha256=([0-9a-fA-F]{64})$/.exec(github.trim());
    if (!m) return { ok: false, reason: 'malformed X-Hub-Signature-256' };
    return hmacMatches(m[1]!, rawBody, secret) ? { ok: true, provider: 'github' } : { ok: false, reason: 'X-Hub-Signature-256 does not match' };
  }

  const gitlab = header(headers, 'x-gitlab-token');
  if (gitlab !== undefined) {
    if (gitlab === null) return { ok: false, reason: 'malformed X-Gitlab-Token' };
    return tokenMatches(gitlab, secret) ? { ok: true, provider: 'gitlab' } : { ok: false, reason: 'X-Gitlab-Token does not match' };
  }

  return { ok: false, reason: 'no signature (X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token)' };
}

/** Which forge a delivery claims to come from, by its event header (for unsigned deliveries). */
export function providerOf(headers: Headers): Provider | null {
  if (header(headers, 'x-gitea-event')) return 'gitea';
  if (header(headers, 'x-gitlab-event')) return 'gitlab';
  if (header(headers, 'x-github-event')) return 'github';
  return null;
}

export type PushInfo =
  /** A push of a branch. */
  | { kind: 'push'; branch: string }
  /** GitHub's ping when a hook is created: answer, do nothing. */
  | { kind: 'ping' }
  /** A delivery that is not a branch push (issues, tags, unknown events). */
  | { kind: 'ignored'; reason: string }
  /** Says it is a push, but the payload cannot be read. */
  | { kind: 'invalid'; reason: string };

export function parsePayload(headers: Headers, body: Buffer | string): Record<string, unknown> | null {
  let text = typeof body === 'string' ? body : body.toString('utf8');
  const type = (header(headers, 'content-type') ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    // GitHub/Gitea "form" content type: the JSON document is the `payload` field.
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) return null;
    text = payload;
  }
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Header values quoted in reasons are attacker-controlled on unsigned paths: keep them short and printable. */
export function quote(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

function branchOfRef(payload: Record<string, unknown>): PushInfo {
  const ref = payload.ref;
  if (typeof ref !== 'string' || ref === '') return { kind: 'invalid', reason: 'push payload has no "ref"' };
  if (ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length) return { kind: 'push', branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { kind: 'ignored', reason: 'tag push' };
  return { kind: 'invalid', reason: 'push payload "ref" is not refs/heads/<branch>' };
}

/**
 * What a (verified) delivery asks for. Event headers decide the kind of event;
 * only a push is parsed, and only its `ref` is read.
 */
export function pushedBranch(headers: Headers, body: Buffer | string): PushInfo {
  const gitlabEvent = header(headers, 'x-gitlab-event');
  if (gitlabEvent) {
    if (gitlabEvent === 'Push Hook' || gitlabEvent === 'System Hook') {
      const payload = parsePayload(headers, body);
      if (!payload) return { kind: 'invalid', reason: 'push payload is not a JSON object' };
      if (gitlabEvent === 'System Hook' && payload.object_kind !== 'push' && payload.event_name !== 'push') {
        return { kind: 'ignored', reason: `system hook ${quote(String(payload.event_name ?? payload.object_kind ?? 'event'))}` };
      }
      return branchOfRef(payload);
    }
    return { kind: 'ignored', reason: `event ${quote(gitlabEvent)}` };
  }

  // Gitea sends X-Gitea-Event and the same value in X-GitHub-Event.
  const event = header(headers, 'x-gitea-event') || header(headers, 'x-github-event');
  if (!event) return { kind: 'ignored', reason: 'no event header' };
  if (event === 'ping') return { kind: 'ping' };
  if (event !== 'push') return { kind: 'ignored', reason: `event ${quote(event)}` };
  const payload = parsePayload(headers, body);
  if (!payload) return { kind: 'invalid', reason: 'push payload is not a JSON object' };
  return branchOfRef(payload);
}
