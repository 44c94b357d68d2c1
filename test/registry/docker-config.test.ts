import { describe, expect, it } from 'vitest';
import { credentialSource, helperAuth, registryAuthHeader } from '../../src/registry/docker-config.js';
import { normalizeRegistryHost, parseImageRef, byDigest } from '../../src/registry/reference.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registry host and image references as Docker normalizes them', () => {
  it('Docker Hub aliases are one host; scheme and path are dropped', () => {
    for (const h of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'HTTPS://Index.Docker.io/v1/']) {
      expect(normalizeRegistryHost(h)).toBe('docker.io');
    }
    expect(normalizeRegistryHost('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(normalizeRegistryHost('ghcr.io/acme')).toBe('ghcr.io');
  });

  it('parses references: Hub library names, hosts with ports, digests', () => {
    expect(parseImageRef('redis')).toEqual({ registry: 'docker.io', repository: 'library/redis', tag: 'latest', digest: null });
    expect(parseImageRef('acme/app:1')).toEqual({ registry: 'docker.io', repository: 'acme/app', tag: '1', digest: null });
    expect(parseImageRef('127.0.0.1:5000/team/app:v1')).toEqual({ registry: '127.0.0.1:5000', repository: 'team/app', tag: 'v1', digest: null });
    expect(parseImageRef('localhost/app')).toEqual({ registry: 'localhost', repository: 'app', tag: 'latest', digest: null });
    expect(parseImageRef('ghcr.io/a/b@sha256:abc')).toEqual({ registry: 'ghcr.io', repository: 'a/b', tag: null, digest: 'sha256:abc' });
    expect(byDigest('127.0.0.1:5000/team/app:v1', 'sha256:abc')).toBe('127.0.0.1:5000/team/app@sha256:abc');
    expect(byDigest('redis:7', 'sha256:abc')).toBe('redis@sha256:abc');
  });
});

describe('credentialSource: where the Docker CLI would look', () => {
  it('auths: `auth`, username/password and identitytoken, matched by normalized host', () => {
    expect(credentialSource({ auths: { 'https://index.docker.io/v1/': { auth: b64('u:p:with:colons') } } }, 'docker.io')).toEqual({
      kind: 'inline',
      auth: { serveraddress: 'https://index.docker.io/v1/', username: 'u', password: 'p:with:colons' },
    });
    expect(credentialSource({ auths: { 'http://reg.local:5000': { username: 'a', password: 'b' } } }, 'reg.local:5000')).toEqual({
      kind: 'inline',
      auth: { serveraddress: 'reg.local:5000', username: 'a', password: 'b' },
    });
    expect(credentialSource({ auths: { 'ghcr.io': { identitytoken: 'tok' } } }, 'ghcr.io')).toEqual({ kind: 'inline', auth: { serveraddress: 'ghcr.io', identitytoken: 'tok' } });
    expect(credentialSource({ auths: { 'ghcr.io': { auth: b64('u:p') } } }, 'quay.io')).toEqual({ kind: 'none' });
    expect(credentialSource({ auths: { 'ghcr.io': {} } }, 'ghcr.io')).toEqual({ kind: 'none' });
  });

  it('credHelpers beat credsStore, which beats auths', () => {
    const cfg = { credHelpers: { 'ghcr.io': 'gh' }, credsStore: 'desktop', auths: { 'ghcr.io': { auth: b64('u:p') }, 'quay.io': { auth: b64('u:p') } } };
    expect(credentialSource(cfg, 'ghcr.io')).toEqual({ kind: 'helper', helper: 'gh', serverUrl: 'ghcr.io' });
    expect(credentialSource(cfg, 'quay.io')).toEqual({ kind: 'helper', helper: 'desktop', serverUrl: 'quay.io' });
    expect(credentialSource({ credsStore: 'pass' }, 'registry-1.docker.io')).toEqual({ kind: 'helper', helper: 'pass', serverUrl: 'https://index.docker.io/v1/' });
  });

  it('helper answers: user/secret, `<token>` as identity token, garbage as none', () => {
    expect(helperAuth('{"ServerURL":"x","Username":"u","Secret":"s"}', 'x')).toEqual({ serveraddress: 'x', username: 'u', password: 's' });
    expect(helperAuth('{"Username":"<token>","Secret":"t"}', 'x')).toEqual({ serveraddress: 'x', identitytoken: 't' });
    expect(helperAuth('not json', 'x')).toBeNull();
    expect(helperAuth('{"Username":"u"}', 'x')).toBeNull();
  });

  it('X-Registry-Auth is base64url JSON the engine decodes', () => {
    const h = registryAuthHeader({ serveraddress: 'r', username: 'u', password: 'p' });
    expect(JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))).toEqual({ serveraddress: 'r', username: 'u', password: 'p' });
  });
});
