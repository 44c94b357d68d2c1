import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CredentialsPort, RegistryAuth } from '../ports/registry.js';
import { credentialSource, helperAuth, type DockerConfigFile } from '../registry/docker-config.js';

const HELPER_TIMEOUT_MS = 15_000;

/**
 * Credentials where the Docker CLI finds them: `$DOCKER_CONFIG/config.json`
 * (default `~/.docker/config.json`), with `credHelpers`/`credsStore` run as
 * `docker-credential-<name> get` (server URL on stdin, JSON on stdout). The
 * file is read on every lookup, so a mounted config that is rotated works
 * without a restart. Error messages name the file or helper, never what it
 * returned.
 */
export class DockerConfigCredentials implements CredentialsPort {
  constructor(private readonly env: Record<string, string | undefined>) {}

  get configPath(): string {
    const dir = this.env.DOCKER_CONFIG || join(this.env.HOME || homedir(), '.docker');
    return join(dir, 'config.json');
  }

  async forRegistry(registry: string): Promise<RegistryAuth | null> {
    const config = await this.readConfig();
    const source = credentialSource(config, registry);
    if (source.kind === 'none') return null;
    if (source.kind === 'inline') return source.auth;
    const out = await this.runHelper(source.helper, source.serverUrl);
    return out === null ? null : helperAuth(out, source.serverUrl);
  }

  private async readConfig(): Promise<DockerConfigFile> {
    let text: string;
    try {
      text = await readFile(this.configPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`cannot read docker config ${this.configPath}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as DockerConfigFile) : {};
    } catch {
      // The parser's message can quote the file (and so a credential): say only where.
      throw new Error(`docker config ${this.configPath} is not valid JSON`);
    }
  }

  /** stdout of `docker-credential-<helper> get`, or null when the helper has no credentials for the server. */
  private runHelper(helper: string, serverUrl: string): Promise<string | null> {
    const bin = `docker-credential-${helper}`;
    return new Promise((resolve, reject) => {
      const child = execFile(bin, ['get'], { env: this.env as NodeJS.ProcessEnv, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new Error(`credential helper ${bin} (from the docker config) is not on PATH`));
        // docker-credential-helpers print this (on stdout) for an unknown server: anonymous, as the CLI does.
        if (/credentials not found/i.test(stdout)) return resolve(null);
        reject(new Error(`credential helper ${bin} failed for ${serverUrl} (${err.killed ? 'timed out' : `exit ${String(code ?? err.message)}`})`));
      });
      child.stdin?.end(serverUrl);
    });
  }
}
