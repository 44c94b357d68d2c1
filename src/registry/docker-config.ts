import type { RegistryAuth } from '../ports/registry.js';
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY, normalizeRegistryHost } from './reference.js';

/**
 * The parts of a Docker CLI config.json (`$DOCKER_CONFIG/config.json`,
 * default `~/.docker/config.json`) that say where credentials are.
 */
export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Where the credentials of one registry come from, as the Docker CLI decides it. */
export type CredentialSource =
  | { kind: 'inline'; auth: RegistryAuth }
  | { kind: 'helper'; helper: string; serverUrl: string }
  | { kind: 'none' };

/**
 * The Docker CLI's order (cli/config/configfile GetCredentialsStore): a
 * `credHelpers` entry for the host, else the `credsStore`, else `auths`.
 * Keys are compared as hostnames, Hub's aliases as one.
 */
export function credentialSource(config: DockerConfigFile, registry: string): CredentialSource {
  const host = normalizeRegistryHost(registry);
  const serverUrl = host === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : host;
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (normalizeRegistryHost(key) === host && helper) return { kind: 'helper', helper, serverUrl };
  }
  if (config.credsStore) return { kind: 'helper', helper: config.credsStore, serverUrl };
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (normalizeRegistryHost(key) !== host || !entry) continue;
    const auth = inlineAuth(entry, serverUrl);
    if (auth) return { kind: 'inline', auth };
  }
  return { kind: 'none' };
}

function inlineAuth(entry: NonNullable<DockerConfigFile['auths']>[string], serveraddress: string): RegistryAuth | null {
  if (entry.identitytoken) return { serveraddress, identitytoken: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}) };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) return null;
    return { serveraddress, username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (entry.username && entry.password) return { serveraddress, username: entry.username, password: entry.password };
  return null;
}

/**
 * A credential helper's `get` answer (docker-credential-helpers): `{ServerURL,
 * Username, Secret}`; the user `<token>` means Secret is an identity token.
 */
export function helperAuth(stdout: string, serveraddress: string): RegistryAuth | null {
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    return null;
  }
  const user = typeof parsed.Username === 'string' ? parsed.Username : '';
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
  if (!secret) return null;
  if (user === '<token>') return { serveraddress, identitytoken: secret };
  return { serveraddress, username: user, password: secret };
}

/** `X-Registry-Auth`: base64url of the JSON the Engine API documents. */
export function registryAuthHeader(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth), 'utf8').toString('base64url');
}
