import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHttp } from '../../src/adapters/registry-http.js';
import type { CredentialsPort } from '../../src/ports/registry.js';
import { parseImageRef } from '../../src/registry/reference.js';
import { freePort } from '../support/free-port.js';

/**
 * The manifest HEAD against a registry that speaks the distribution token
 * flow (the shape Docker Hub, GHCR and GitLab serve): 401 with a Bearer
 * challenge, a token endpoint that takes Basic credentials, then the HEAD with
 * the token answers Docker-Content-Digest.
 */
const DIGEST = `sha256:${'c'.repeat(64)}`;
const TOKEN = 'tok-for-registry-http-test';
let server: Server;
let host = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith('/token')) {
      const u = new URL(req.url, 'http://x');
      const ok = req.headers.authorization === `Basic ${Buffer.from('alice:pw').toString('base64')}` && u.searchParams.get('scope') === 'repository:team/app:pull' && u.searchParams.get('service') === 'reg';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? JSON.stringify({ token: TOKEN }) : '{}');
      return;
    }
    if (req.url === '/v2/team/app/manifests/v1') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="reg",scope="repository:team/app:pull"` }).end();
        return;
      }
      res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const creds = (username: string, password: string): CredentialsPort => ({ forRegistry: async (registry) => ({ serveraddress: registry, username, password }) });

describe('RegistryHttp', () => {
  it('token flow: challenge → token with Basic → HEAD with Bearer → the digest', async () => {
    const digest = await new RegistryHttp(creds('alice', 'pw')).resolveDigest(parseImageRef(`${host}/team/app:v1`));
    expect(digest).toBe(DIGEST);
    expect(seen.filter((s) => s.startsWith('HEAD')).length).toBe(2);
  });

  it('wrong credentials and unknown tags fail naming the image and the answer, never the password', async () => {
    const wrong = new RegistryHttp(creds('alice', 'not-the-pw-77'));
    await expect(wrong.resolveDigest(parseImageRef(`${host}/team/app:v1`))).rejects.toThrow(`registry ${host}: cannot resolve ${host}/team/app:v1: 401 unauthorized at the token endpoint`);
    const err = await wrong.resolveDigest(parseImageRef(`${host}/team/app:v1`)).catch((e: Error) => e.message);
    expect(err).not.toContain('not-the-pw-77');
    await expect(new RegistryHttp(creds('alice', 'pw')).resolveDigest(parseImageRef(`${host}/team/other:v1`))).rejects.toThrow('404 not found');
  });

  it('registry down: a plain reason', async () => {
    const down = new RegistryHttp(creds('a', 'b'));
    await expect(down.resolveDigest(parseImageRef(`127.0.0.1:${await freePort()}/x/y:z`))).rejects.toThrow('connection refused (registry down?)');
  });
});
