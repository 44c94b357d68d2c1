import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hostKeyVerifier, parseDockerHost, resolveDockerConnection, type ConnectionDeps } from '../../src/adapters/docker-connection.js';

/** Each DOCKER_HOST form the docker CLI accepts, resolved with a fake home directory. */
const HOME = '/home/ops';
function deps(files: Record<string, string> = {}): ConnectionDeps {
  return { homeDir: HOME, userName: 'ops', readFile: (p) => (p in files ? Buffer.from(files[p]!) : null) };
}
const certs = (dir: string) => ({ [`${dir}/ca.pem`]: 'CA', [`${dir}/cert.pem`]: 'CERT', [`${dir}/key.pem`]: 'KEY' });

describe('unix socket', () => {
  it('DOCKER_HOST unset → /var/run/docker.sock', () => {
    const c = resolveDockerConnection({}, deps());
    expect(c.endpoint).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(c.options).toMatchObject({ socketPath: '/var/run/docker.sock', host: undefined });
    expect(c.description).toBe('unix:///var/run/docker.sock');
  });
  it('empty DOCKER_HOST and bare unix:// → the default socket', () => {
    expect(parseDockerHost({ DOCKER_HOST: '' }, deps())).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(parseDockerHost({ DOCKER_HOST: 'unix://' }, deps())).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
  });
  it('unix:///path → that socket (rootless)', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, deps());
    expect(c.options.socketPath).toBe('/run/user/1000/docker.sock');
  });
});

describe('tcp', () => {
  it('plain tcp://host:port → http', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'tcp://10.0.0.2:2375' }, deps());
    expect(c.options).toMatchObject({ host: '10.0.0.2', port: 2375, protocol: 'http', ca: undefined });
    expect(c.tlsInsecure).toBe(false);
  });
  it('a bare host:port is tcp, and a missing port defaults to 2375 without TLS, 2376 with', () => {
    expect(parseDockerHost({ DOCKER_HOST: 'docker.lan:4243' }, deps())).toMatchObject({ kind: 'tcp', host: 'docker.lan', port: 4243, tls: null });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://docker.lan' }, deps())).toMatchObject({ port: 2375 });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://docker.lan', DOCKER_TLS_VERIFY: '1' }, deps())).toMatchObject({ port: 2376 });
  });
  it('an IPv6 host in brackets', () => {
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://[fd00::2]:2376' }, deps())).toMatchObject({ host: 'fd00::2', port: 2376 });
  });
  it('DOCKER_TLS_VERIFY: https with ca/cert/key from DOCKER_CERT_PATH, verified', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/etc/berth/certs' }, deps(certs('/etc/berth/certs')));
    expect(c.options).toMatchObject({ host: 'h', port: 2376, protocol: 'https' });
    expect(String(c.options.ca)).toBe('CA');
    expect(String(c.options.cert)).toBe('CERT');
    expect(String(c.options.key)).toBe('KEY');
    expect(c.tlsInsecure).toBe(false);
    expect(c.description).toBe('tcp://h:2376 (TLS, verified)');
  });
  it('certificates default to ~/.docker', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1' }, deps(certs(`${HOME}/.docker`)));
    expect(String(c.options.ca)).toBe('CA');
  });
  it('any non-empty DOCKER_TLS_VERIFY enables verification, as in the CLI', () => {
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '0' }, deps())).toMatchObject({ tls: { verify: true } });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '' }, deps())).toMatchObject({ tls: null });
  });
  it('DOCKER_TLS alone: encrypted but not verified (an insecure agent is needed)', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'tcp://h', DOCKER_TLS: '1' }, deps());
    expect(c.options).toMatchObject({ protocol: 'https', port: 2376 });
    expect(c.options.cert).toBeUndefined();
    expect(c.tlsInsecure).toBe(true);
    expect(c.description).toContain('NOT verified');
  });
  it('verification without ca.pem, or a cert without its key, is an error that names the file', () => {
    expect(() => resolveDockerConnection({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }, deps())).toThrow(/\/c\/ca\.pem does not exist/);
    expect(() =>
      resolveDockerConnection({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }, deps({ '/c/ca.pem': 'CA', '/c/cert.pem': 'C' })),
    ).toThrow(/needs both \/c\/cert\.pem and \/c\/key\.pem/);
  });
});

describe('ssh', () => {
  it('ssh://user@host → protocol ssh, port 22, the agent from SSH_AUTH_SOCK', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'ssh://deploy@prod-1', SSH_AUTH_SOCK: '/tmp/agent.sock' }, deps());
    expect(c.options).toMatchObject({ protocol: 'ssh', host: 'prod-1', port: 22, username: 'deploy' });
    expect(c.options.sshOptions?.agent).toBe('/tmp/agent.sock');
    expect(c.options.sshOptions?.privateKey).toBeUndefined();
    expect(typeof c.options.sshOptions?.hostVerifier).toBe('function');
    expect(c.description).toBe('ssh://deploy@prod-1');
  });
  it('without an agent, the first default identity; without a user, the local user; a port', () => {
    const c = resolveDockerConnection({ DOCKER_HOST: 'ssh://prod-1:2222' }, deps({ [`${HOME}/.ssh/id_ecdsa`]: 'ECDSA', [`${HOME}/.ssh/id_rsa`]: 'RSA' }));
    expect(c.options).toMatchObject({ host: 'prod-1', port: 2222, username: 'ops' });
    expect(String(c.options.sshOptions?.privateKey)).toBe('ECDSA');
  });
  it('no agent and no key, a password in the URL, or a path: errors', () => {
    expect(() => resolveDockerConnection({ DOCKER_HOST: 'ssh://prod-1' }, deps())).toThrow(/neither an SSH agent/);
    expect(() => parseDockerHost({ DOCKER_HOST: 'ssh://u:pw@prod-1' }, deps())).toThrow(/password/);
    expect(() => parseDockerHost({ DOCKER_HOST: 'ssh://u@prod-1/var/run' }, deps())).toThrow(/path/);
  });
  it('the host key must be in known_hosts (plain, hashed, [host]:port, wildcard); others and @revoked are refused', () => {
    const key = (seed: string) => Buffer.from(`ssh-ed25519-blob-${seed}`);
    const b64 = (k: Buffer) => k.toString('base64');
    const salt = Buffer.from('0123456789abcdefghij');
    const hashed = (name: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    const knownHosts = [
      '# comment',
      `prod-1,10.0.0.1 ssh-ed25519 ${b64(key('prod1'))}`,
      `${hashed('prod-2')} ssh-ed25519 ${b64(key('prod2'))}`,
      `[prod-3]:2222 ssh-ed25519 ${b64(key('prod3'))}`,
      `*.example.com,!evil.example.com ssh-ed25519 ${b64(key('wild'))}`,
      `@revoked prod-1 ssh-ed25519 ${b64(key('old'))}`,
      `@cert-authority * ssh-ed25519 ${b64(key('ca'))}`,
    ].join('\n');
    expect(hostKeyVerifier(knownHosts, 'prod-1', 22)(key('prod1'))).toBe(true);
    expect(hostKeyVerifier(knownHosts, '10.0.0.1', 22)(key('prod1'))).toBe(true);
    expect(hostKeyVerifier(knownHosts, 'prod-1', 22)(key('prod2'))).toBe(false);
    expect(hostKeyVerifier(knownHosts, 'prod-1', 22)(key('old'))).toBe(false);
    expect(hostKeyVerifier(knownHosts, 'prod-2', 22)(key('prod2'))).toBe(true);
    expect(hostKeyVerifier(knownHosts, 'prod-3', 2222)(key('prod3'))).toBe(true);
    expect(hostKeyVerifier(knownHosts, 'prod-3', 22)(key('prod3'))).toBe(false);
    expect(hostKeyVerifier(knownHosts, 'a.example.com', 22)(key('wild'))).toBe(true);
    expect(hostKeyVerifier(knownHosts, 'evil.example.com', 22)(key('wild'))).toBe(false);
    expect(hostKeyVerifier(knownHosts, 'unknown', 22)(key('ca'))).toBe(false);
    expect(hostKeyVerifier('', 'prod-1', 22)(key('prod1'))).toBe(false);
  });
  it('the verifier is wired to ~/.ssh/known_hosts', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const blob = publicKey.export({ format: 'der', type: 'spki' });
    const c = resolveDockerConnection(
      { DOCKER_HOST: 'ssh://u@h', SSH_AUTH_SOCK: '/a' },
      deps({ [`${HOME}/.ssh/known_hosts`]: `h ssh-ed25519 ${blob.toString('base64')}\n` }),
    );
    const verify = c.options.sshOptions?.hostVerifier as (k: Buffer) => boolean;
    expect(verify(blob)).toBe(true);
    expect(verify(Buffer.from('other'))).toBe(false);
  });
});

describe('errors', () => {
  it('an unknown scheme names the supported ones', () => {
    expect(() => parseDockerHost({ DOCKER_HOST: 'http://h:2375' }, deps())).toThrow(/unsupported scheme "http".*unix:\/\/, tcp:\/\/, ssh:\/\//);
    expect(() => parseDockerHost({ DOCKER_HOST: 'tcp://h:abc' }, deps())).toThrow(/invalid port "abc"/);
  });
});
