import { createRequire } from 'node:module';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';

/**
 * Where the Docker engine is, from the environment, read the way the docker
 * CLI reads it (PRODUCT.md §4: "the usual DOCKER_HOST"):
 *
 * - DOCKER_HOST unset            → unix:///var/run/docker.sock
 * - unix:///path                 → that socket
 * - tcp://host[:port], host:port → TCP; TLS when DOCKER_TLS_VERIFY or DOCKER_TLS
 *                                  is non-empty (as the CLI, any non-empty value),
 *                                  verifying the server only with DOCKER_TLS_VERIFY;
 *                                  certificates ca.pem, cert.pem, key.pem from
 *                                  DOCKER_CERT_PATH (default ~/.docker); default port
 *                                  2376 with TLS, 2375 without
 * - ssh://[user@]host[:port]     → `docker system dial-stdio` over SSH (docker-modem
 *                                  runs it through ssh2; the remote needs the docker CLI)
 *
 * The parsing is pure (`resolveDockerConnection` takes the environment and a
 * file reader); `dockerodeOptionsFromEnv` feeds it the real ones.
 *
 * SSH differs from the CLI in one way that matters: docker-modem uses the
 * ssh2 library, not the `ssh` binary, so ~/.ssh/config is not read. Berth
 * authenticates with the agent (SSH_AUTH_SOCK) or else the first default
 * identity (~/.ssh/id_ed25519, id_ecdsa, id_rsa), and checks the host key
 * against ~/.ssh/known_hosts (ssh2 alone would accept any host key).
 */

export type DockerEndpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'npipe'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: TlsSettings | null }
  | { kind: 'ssh'; host: string; port: number; username: string };

export interface TlsSettings {
  /** Verify the server's certificate against ca.pem (DOCKER_TLS_VERIFY). */
  verify: boolean;
  caPath: string;
  certPath: string;
  keyPath: string;
}

export interface ConnectionDeps {
  homeDir: string;
  userName: string;
  /** Contents of a file, or null when it does not exist. */
  readFile(path: string): Buffer | null;
}

export interface DockerConnection {
  endpoint: DockerEndpoint;
  /** Options for `new Dockerode(...)`. */
  options: Dockerode.DockerOptions;
  /** For logs and error messages, e.g. `tcp://10.0.0.2:2376 (TLS, verified)`. */
  description: string;
  /**
   * DOCKER_TLS without DOCKER_TLS_VERIFY (the CLI's `--tls`): encrypted, server
   * not verified. docker-modem passes no `rejectUnauthorized`, so the caller
   * supplies an https agent that carries it (`dockerConnectionFromEnv` does).
   */
  tlsInsecure: boolean;
}

export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

const nonEmpty = (v: string | undefined): boolean => v !== undefined && v !== '';

/** DOCKER_HOST (and the TLS variables) → where to connect. Pure. Throws on a malformed DOCKER_HOST. */
export function parseDockerHost(env: Record<string, string | undefined>, deps: Pick<ConnectionDeps, 'homeDir' | 'userName'>): DockerEndpoint {
  const raw = (env.DOCKER_HOST ?? '').trim();
  if (raw === '') return { kind: 'unix', socketPath: DEFAULT_UNIX_SOCKET };
  const sep = raw.indexOf('://');
  // The CLI reads a bare `host:port` as tcp.
  const scheme = sep < 0 ? 'tcp' : raw.slice(0, sep).toLowerCase();
  const rest = sep < 0 ? raw : raw.slice(sep + 3);
  const bad = (why: string) => new Error(`DOCKER_HOST "${raw}": ${why}`);
  switch (scheme) {
    case 'unix':
      return { kind: 'unix', socketPath: rest === '' ? DEFAULT_UNIX_SOCKET : rest };
    case 'npipe':
      return { kind: 'npipe', socketPath: rest === '' ? '//./pipe/docker_engine' : rest };
    case 'tcp': {
      const tlsVerify = nonEmpty(env.DOCKER_TLS_VERIFY);
      const useTls = tlsVerify || nonEmpty(env.DOCKER_TLS);
      const { host, port } = hostPort(rest, useTls ? 2376 : 2375, bad);
      const certDir = nonEmpty(env.DOCKER_CERT_PATH) ? env.DOCKER_CERT_PATH! : join(deps.homeDir, '.docker');
      const tls = useTls
        ? { verify: tlsVerify, caPath: join(certDir, 'ca.pem'), certPath: join(certDir, 'cert.pem'), keyPath: join(certDir, 'key.pem') }
        : null;
      return { kind: 'tcp', host, port, tls };
    }
    case 'ssh': {
      let userPart = '';
      let hostPart = rest;
      const at = rest.lastIndexOf('@');
      if (at >= 0) {
        userPart = rest.slice(0, at);
        hostPart = rest.slice(at + 1);
      }
      if (userPart.includes(':')) throw bad('a password in the URL is not supported; use an SSH key or agent');
      const { host, port } = hostPort(hostPart, 22, bad);
      return { kind: 'ssh', host, port, username: userPart === '' ? deps.userName : decodeURIComponent(userPart) };
    }
    default:
      throw bad(`unsupported scheme "${scheme}" (unix://, tcp://, ssh://)`);
  }
}

function hostPort(s: string, defaultPort: number, bad: (why: string) => Error): { host: string; port: number } {
  const slash = s.indexOf('/');
  if (slash >= 0 && s.slice(slash) !== '/') throw bad('a path after the host is not supported');
  const hp = slash >= 0 ? s.slice(0, slash) : s;
  let host = hp;
  let portStr = '';
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(hp);
  if (v6) {
    host = v6[1]!;
    portStr = v6[2] ?? '';
  } else {
    const colon = hp.lastIndexOf(':');
    if (colon >= 0) {
      host = hp.slice(0, colon);
      portStr = hp.slice(colon + 1);
    }
  }
  if (host === '') throw bad('no host');
  if (portStr !== '' && !/^\d+$/.test(portStr)) throw bad(`invalid port "${portStr}"`);
  const port = portStr === '' ? defaultPort : Number(portStr);
  if (port < 1 || port > 65535) throw bad(`invalid port "${portStr}"`);
  return { host, port };
}

/** The environment → dockerode options. Pure given `deps` (files are read through it). Throws with an actionable message. */
export function resolveDockerConnection(env: Record<string, string | undefined>, deps: ConnectionDeps): DockerConnection {
  return connectionForEndpoint(parseDockerHost(env, deps), env, deps);
}

/**
 * A berth.yaml `hosts:` entry → where to connect: its `docker:` URL read as
 * DOCKER_HOST would be, with its own `tls:` files (always verified) instead of
 * DOCKER_CERT_PATH. `env` still supplies SSH_AUTH_SOCK for ssh:// hosts.
 */
export function resolveTargetConnection(
  target: { docker: string; tls: { ca: string; cert: string; key: string } | null },
  env: Record<string, string | undefined>,
  deps: ConnectionDeps,
): DockerConnection {
  const parsed = parseDockerHost({ DOCKER_HOST: target.docker }, deps);
  const endpoint: DockerEndpoint =
    parsed.kind === 'tcp' && target.tls
      ? { ...parsed, port: /:\d+\/?$/.test(target.docker) ? parsed.port : 2376, tls: { verify: true, caPath: target.tls.ca, certPath: target.tls.cert, keyPath: target.tls.key } }
      : parsed;
  return connectionForEndpoint(endpoint, env, deps);
}

function connectionForEndpoint(endpoint: DockerEndpoint, env: Record<string, string | undefined>, deps: ConnectionDeps): DockerConnection {
  switch (endpoint.kind) {
    case 'unix':
    case 'npipe':
      return {
        endpoint,
        // host/protocol explicitly unset: docker-modem would otherwise fill them from process.env.
        options: { socketPath: endpoint.socketPath, host: undefined, port: undefined, protocol: undefined },
        description: `${endpoint.kind}://${endpoint.socketPath}`,
        tlsInsecure: false,
      };
    case 'tcp': {
      const url = `tcp://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
      if (!endpoint.tls) {
        // ca/cert/key explicitly unset: docker-modem would otherwise read them from process.env's DOCKER_CERT_PATH.
        const options: Dockerode.DockerOptions = { host: endpoint.host, port: endpoint.port, protocol: 'http', ca: undefined, cert: undefined, key: undefined };
        return { endpoint, options, description: url, tlsInsecure: false };
      }
      const t = endpoint.tls;
      const ca = deps.readFile(t.caPath);
      const cert = deps.readFile(t.certPath);
      const key = deps.readFile(t.keyPath);
      if (t.verify && !ca) throw new Error(`DOCKER_TLS_VERIFY is set but the CA certificate ${t.caPath} does not exist (set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem, key.pem)`);
      if (!!cert !== !!key) throw new Error(`TLS client certificate needs both ${t.certPath} and ${t.keyPath}; only ${cert ? t.certPath : t.keyPath} exists`);
      const options: Dockerode.DockerOptions = { host: endpoint.host, port: endpoint.port, protocol: 'https' };
      if (ca) options.ca = ca;
      if (cert && key) {
        options.cert = cert;
        options.key = key;
      }
      return { endpoint, options, description: `${url} (TLS, ${t.verify ? 'verified' : 'NOT verified'})`, tlsInsecure: !t.verify };
    }
    case 'ssh': {
      const sshOptions: NonNullable<Dockerode.DockerOptions['sshOptions']> = {};
      const agent = env.SSH_AUTH_SOCK;
      if (nonEmpty(agent)) {
        sshOptions.agent = agent!;
      } else {
        for (const id of DEFAULT_IDENTITIES) {
          const k = deps.readFile(join(deps.homeDir, '.ssh', id));
          if (k) {
            sshOptions.privateKey = k;
            break;
          }
        }
        if (!sshOptions.privateKey) {
          throw new Error(`DOCKER_HOST is ssh:// but there is neither an SSH agent (SSH_AUTH_SOCK) nor a key in ~/.ssh (${DEFAULT_IDENTITIES.join(', ')})`);
        }
      }
      const knownHosts = deps.readFile(join(deps.homeDir, '.ssh', 'known_hosts'));
      const verifier = hostKeyVerifier(knownHosts?.toString('utf8') ?? '', endpoint.host, endpoint.port);
      sshOptions.hostVerifier = (key: Buffer) => verifier(key);
      return {
        endpoint,
        options: { protocol: 'ssh', host: endpoint.host, port: endpoint.port, username: endpoint.username, sshOptions },
        description: `ssh://${endpoint.username}@${endpoint.host}${endpoint.port === 22 ? '' : `:${endpoint.port}`}`,
        tlsInsecure: false,
      };
    }
  }
}

/**
 * A host key check against OpenSSH known_hosts text: plain and hashed
 * (`|1|salt|hash`) host patterns, `[host]:port`, `*`/`?` wildcards and `!`
 * negation; `@revoked` keys are refused, `@cert-authority` lines skipped.
 * Returns true only when a line for the host lists exactly this key.
 */
export function hostKeyVerifier(knownHosts: string, host: string, port: number): (key: Buffer) => boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const accepted: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const rawLine of knownHosts.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker = '';
    if (fields[0]!.startsWith('@')) {
      marker = fields[0]!;
      fields = fields.slice(1);
    }
    if (fields.length < 3 || marker === '@cert-authority') continue;
    const [patterns, , b64] = fields as [string, string, string];
    if (!hostMatches(patterns, name)) continue;
    const key = Buffer.from(b64, 'base64');
    (marker === '@revoked' ? revoked : accepted).push(key);
  }
  return (key: Buffer) => !revoked.some((k) => k.equals(key)) && accepted.some((k) => k.equals(key));
}

function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt = '', hash = ''] = patterns.split('|');
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    const negate = p.startsWith('!');
    const pat = negate ? p.slice(1) : p;
    const re = new RegExp(`^${pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (re.test(name)) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

/** SHA256 fingerprint as `ssh-keygen -l` prints it (for error messages and tests). */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function readIfExists(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The connection for this process's environment (files read from disk). */
export function dockerConnectionFromEnv(env: Record<string, string | undefined> = process.env): DockerConnection {
  return withInsecureAgent(resolveDockerConnection(env, { homeDir: homedir(), userName: safeUserName(), readFile: readIfExists }));
}

/** The connection for one berth.yaml host (files read from disk). */
export function dockerConnectionForTarget(
  target: { docker: string; tls: { ca: string; cert: string; key: string } | null },
  env: Record<string, string | undefined> = process.env,
): DockerConnection {
  return withInsecureAgent(resolveTargetConnection(target, env, { homeDir: homedir(), userName: safeUserName(), readFile: readIfExists }));
}

function withInsecureAgent(conn: DockerConnection): DockerConnection {
  if (conn.tlsInsecure) {
    // docker-modem hands `agent` to https.request; the agent's options win over the request's.
    // node:https loads here only: a local-socket engine never needs it.
    const { Agent } = createRequire(import.meta.url)('node:https') as typeof import('node:https');
    (conn.options as { agent?: unknown }).agent = new Agent({ rejectUnauthorized: false });
  }
  return conn;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
