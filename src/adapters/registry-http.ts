import type { CredentialsPort, RegistryAuth, RegistryPort } from '../ports/registry.js';
import { familiarName, isLoopbackRegistry, registryApiHost, type ImageRef } from '../registry/reference.js';

const TIMEOUT_MS = 10_000;
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * The registry HTTP API v2, only as far as berth needs it: a manifest HEAD
 * answers which digest a tag names (`Docker-Content-Digest`), without a
 * download. Auth as the engine does it: anonymous first, then what the
 * `WWW-Authenticate` challenge asks for — Basic with the docker config's
 * credentials, or the Bearer token flow (token endpoint with Basic or the
 * identity token as refresh token). Loopback registries are spoken to over
 * plain HTTP (Docker's default insecure range), all others over HTTPS.
 */
export class RegistryHttp implements RegistryPort {
  /** Registries that challenged with Basic: later HEADs send the credentials at once (one request, not two). Only the scheme is kept, never the credentials. */
  private readonly basic = new Set<string>();

  constructor(
    private readonly credentials: CredentialsPort,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async resolveDigest(ref: ImageRef): Promise<string> {
    const name = `${familiarName(ref)}:${ref.tag ?? 'latest'}`;
    const url = `${apiBase(ref)}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`;
    const fail = (why: string) => new Error(`registry ${ref.registry}: cannot resolve ${name}: ${why}`);
    const res = await this.send(ref, url, 'HEAD', MANIFEST_TYPES, fail);
    const digest = res.headers.get('docker-content-digest');
    if (!digest) throw fail('the registry did not send Docker-Content-Digest');
    return digest;
  }

  /**
   * Every tag of `ref`'s repository: GET /v2/<name>/tags/list, following the
   * `Link: <…>; rel="next"` pages the distribution spec defines (bounded, so a
   * registry that links in a circle cannot keep berth busy).
   */
  async listTags(ref: ImageRef): Promise<string[]> {
    const fail = (why: string) => new Error(`registry ${ref.registry}: cannot list the tags of ${familiarName(ref)}: ${why}`);
    const base = apiBase(ref);
    const tags: string[] = [];
    let url: string | null = `${base}/v2/${ref.repository}/tags/list?n=1000`;
    for (let page = 0; url && page < 100; page++) {
      const res = await this.send(ref, url, 'GET', 'application/json', fail);
      const body = (await res.json().catch(() => null)) as { tags?: unknown } | null;
      if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) throw fail('the registry sent no tag list');
      for (const t of (body.tags as unknown[] | null | undefined) ?? []) if (typeof t === 'string') tags.push(t);
      const next = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(res.headers.get('link') ?? '');
      url = next ? new URL(next[1]!, base).toString() : null;
    }
    return tags;
  }

  /** One request with the registry's auth flow: anonymous (or Basic at once, once challenged), then what the challenge asks for. */
  private async send(ref: ImageRef, url: string, method: 'HEAD' | 'GET', accept: string, fail: (why: string) => Error): Promise<Response> {
    const credentials = () =>
      this.credentials.forRegistry(ref.registry).catch((e: Error) => {
        throw fail(e.message);
      });
    const eager = this.basic.has(ref.registry) ? await this.authorize('Basic', await credentials(), ref, fail) : null;
    let res = await this.request(url, method, accept, eager ?? undefined, fail);
    if (res.status === 401 && !eager) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      if (challenge.toLowerCase().startsWith('basic')) this.basic.add(ref.registry);
      const authorization = await this.authorize(challenge, await credentials(), ref, fail);
      if (authorization) res = await this.request(url, method, accept, authorization, fail);
    }
    if (res.status === 401 || res.status === 403) throw fail(`${res.status} unauthorized (check the credentials in the docker config)`);
    if (res.status === 404) throw fail('404 not found (no such repository or tag)');
    if (!res.ok) throw fail(`HTTP ${res.status}`);
    return res;
  }

  private async request(url: string, method: 'HEAD' | 'GET', accept: string, authorization: string | undefined, fail: (why: string) => Error): Promise<Response> {
    try {
      return await this.fetchFn(url, {
        method,
        headers: { accept, ...(authorization ? { authorization } : {}) },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw fail(networkReason(e));
    }
  }

  private async authorize(challenge: string, auth: RegistryAuth | null, ref: ImageRef, fail: (why: string) => Error): Promise<string | null> {
    const scheme = challenge.split(' ', 1)[0]!.toLowerCase();
    if (scheme === 'basic') {
      if (!auth?.username || auth.password === undefined) return null;
      return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    if (scheme !== 'bearer') return null;
    const params = challengeParams(challenge);
    if (!params.realm) throw fail('the registry asked for a token without naming its realm');
    const scope = params.scope ?? `repository:${ref.repository}:pull`;
    const query = new URLSearchParams({ ...(params.service ? { service: params.service } : {}), scope });
    let res: Response;
    try {
      if (auth?.identitytoken) {
        res = await this.fetchFn(params.realm, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.identitytoken, client_id: 'berth', scope, ...(params.service ? { service: params.service } : {}) }).toString(),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } else {
        const basic = auth?.username && auth.password !== undefined ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : undefined;
        res = await this.fetchFn(`${params.realm}?${query.toString()}`, { headers: basic, signal: AbortSignal.timeout(TIMEOUT_MS) });
      }
    } catch (e) {
      throw fail(`token endpoint: ${networkReason(e)}`);
    }
    if (res.status === 401 || res.status === 403) throw fail(`${res.status} unauthorized at the token endpoint (check the credentials in the docker config)`);
    if (!res.ok) throw fail(`token endpoint answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw fail('the token endpoint sent no token');
    return `Bearer ${token}`;
  }
}

function apiBase(ref: ImageRef): string {
  return `${isLoopbackRegistry(ref.registry) ? 'http' : 'https'}://${registryApiHost(ref.registry)}`;
}

/** `Bearer realm="…",service="…",scope="…"` → its parameters. */
export function challengeParams(challenge: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of challenge.slice(challenge.indexOf(' ') + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

function networkReason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000}s`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (registry down?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  return err.cause?.message ?? err.message;
}
