import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { DesiredStack, DesiredState } from '../model/desired.js';
import { sortDiagnostics, type Diagnostic } from '../model/errors.js';
import { parseDotenv } from './dotenv.js';
import type { Lookup } from './interpolate.js';
import { composeStackFiles } from './compose-files.js';
import { interpolateTree } from './interpolate-tree.js';
import { crossTargetReferenceDiagnostics, targetOf } from './hosts.js';
import { normalizeStack } from './normalize.js';
import { stackNameFromFolder } from './stack-name.js';
import { referenceDiagnostics } from './references.js';
import { createValidators, schemaDiagnostics, type Validators } from './schema.js';
import { normalizeSettings } from './settings.js';
import { unsupportedKeyDiagnostics } from './supported.js';
import { decodeUtf8, fileDiag, parseYaml, type YamlSource } from './yaml-source.js';
import { SopsKeyring } from '../secrets/keyring.js';
import { RepoSecrets, type SecretsContext } from '../secrets/repo-secrets.js';

/** The Compose file names `docker compose` looks for, in its order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** A project name as Compose accepts it. */
const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface LoadOptions {
  /** Variables for interpolation; they win over `.env` files. Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Reuse compiled schemas across loads (the controller loads on every change). */
  validators?: Validators;
  /** Identities and paths for SOPS files; without it an encrypted file is refused (no identity). See load-secrets.ts. */
  secrets?: SecretsContext;
  /** Refuse berth.yaml `hosts:` with this reason (a caller that drives one engine only: `berth run`). */
  refuseHosts?: string;
}

export interface LoadResult {
  /** null when any error was found: an invalid repo is never half-applied. */
  state: DesiredState | null;
  diagnostics: Diagnostic[];
  /**
   * Each loaded stack's parsed Compose file, by stack name, so checks that run
   * after loading (`berth lint`) can point at FILE:LINE:COL without parsing again.
   */
  sources: ReadonlyMap<string, YamlSource>;
  /** The SOPS files this load decrypted or refused (names only), and the decrypted files to mount. */
  secrets: RepoSecrets;
}

export function loadDesiredState(repoDir: string, opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  const validators = opts.validators ?? createValidators();
  const diagnostics: Diagnostic[] = [];
  const root = resolve(repoDir);
  const secrets = new RepoSecrets(opts.secrets ?? { keyring: new SopsKeyring([]), salt: '', materialDir: '' });

  if (!existsSync(root) || !statSync(root).isDirectory()) {
    return { state: null, diagnostics: [fileDiag(repoDir, 'repo-not-found', 'repository directory not found')], sources: new Map(), secrets };
  }
  const realRoot = realpathSync(root);
  const rel = (abs: string) => relative(root, abs).split(sep).join('/');

  /** Read a file of the repo, refusing links that lead outside it; a SOPS file is decrypted (verified) in memory. */
  const readRepoFile = (abs: string, sops: 'decrypt' | 'refuse' = 'decrypt'): { text: string } | { error: Diagnostic } => {
    const real = realPathOrNull(abs);
    if (real === null) return { error: fileDiag(rel(abs), 'broken-link', BROKEN_LINK) };
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      return { error: fileDiag(rel(abs), 'path-escapes-repo', 'this file is a symbolic link to a path outside the repository') };
    }
    if (!statSync(real).isFile()) return { error: fileDiag(rel(abs), 'not-a-file', 'not a regular file') };
    const read = secrets.read(rel(abs), readFileSync(real));
    if (read.kind === 'refused') return { error: fileDiag(rel(abs), 'sops', read.message) };
    if (read.kind === 'decrypted' && sops === 'refuse') {
      // Its values would reach plans and outputs; secrets belong in the .env, env_file or secrets: files.
      return { error: fileDiag(rel(abs), 'sops', 'a SOPS-encrypted Compose or berth.yaml file is not supported: encrypt the stack\'s .env, an env_file or a secrets: file instead') };
    }
    return decodeUtf8(rel(abs), read.bytes);
  };

  const parseFile = (abs: string): YamlSource | null => {
    const read = readRepoFile(abs, 'refuse');
    if ('error' in read) {
      diagnostics.push(read.error);
      return null;
    }
    const { source, diagnostics: ds } = parseYaml(rel(abs), read.text);
    diagnostics.push(...ds);
    return source;
  };

  // berth.yaml: interpolated from the process environment only (no .env at the root).
  const envLookup: Lookup = (name) => env[name];
  let settingsSource: YamlSource | null = null;
  for (const n of ['berth.yaml', 'berth.yml']) {
    const p = join(root, n);
    if (entryExists(p)) {
      const src = parseFile(p);
      if (src) {
        const it = interpolateTree(src, envLookup);
        diagnostics.push(...it.diagnostics);
        settingsSource = { ...src, value: it.value };
      }
      break;
    }
  }

  const stacksDir = join(root, 'stacks');
  const stackEntries: { name: string; dir: string; file: string }[] = [];
  if (!existsSync(stacksDir) || !statSync(stacksDir).isDirectory()) {
    diagnostics.push(fileDiag('stacks', 'no-stacks', 'no stacks/ directory: put each stack in stacks/<stack>/compose.yaml'));
  } else {
    for (const name of readdirSync(stacksDir).sort()) {
      const dir = join(stacksDir, name);
      if (name.startsWith('.')) continue;
      const real = realPathOrNull(dir);
      if (real === null) {
        // A link to nothing (or to itself) where a stack would be: not silently one stack fewer.
        diagnostics.push(fileDiag(rel(dir), 'broken-link', BROKEN_LINK));
        continue;
      }
      if (!statSync(real).isDirectory()) continue;
      if (lstatSync(dir).isSymbolicLink()) {
        if (!real.startsWith(realRoot + sep)) {
          diagnostics.push(fileDiag(rel(dir), 'path-escapes-repo', 'this stack directory is a symbolic link to a path outside the repository'));
          continue;
        }
      }
      // A compose.yaml that is a broken link counts as found, so reading it reports the link.
      const found = COMPOSE_FILE_NAMES.filter((f) => entryExists(join(dir, f)));
      if (found.length === 0) {
        diagnostics.push({ ...fileDiag(rel(dir), 'no-compose-file', `no Compose file (${COMPOSE_FILE_NAMES.join(', ')}); the directory is ignored`), severity: 'warning' });
        continue;
      }
      const stackName = stackNameFromFolder(name);
      if (!STACK_NAME.test(stackName)) {
        diagnostics.push(fileDiag(rel(dir), 'stack-name', `folder "${name}" gives no valid Compose project name (lowercase letters, digits, "-" and "_", starting with a letter or digit)`));
        continue;
      }
      const twin = stackEntries.find((s) => s.name === stackName);
      if (twin) {
        diagnostics.push(fileDiag(rel(dir), 'stack-name', `folder "${name}" gives the stack name "${stackName}", as ${rel(twin.dir)} does: rename one of them`));
        continue;
      }
      if (found.length > 1) {
        diagnostics.push({ ...fileDiag(rel(join(dir, found[1]!)), 'compose-file-ignored', `ignored: ${found[0]} in the same directory takes precedence`), severity: 'warning' });
      }
      stackEntries.push({ name: stackName, dir, file: join(dir, found[0]!) });
    }
    if (stackEntries.length === 0 && !diagnostics.some((d) => d.severity === 'error')) {
      // An empty desired state would, with prune on, remove everything berth manages.
      diagnostics.push(fileDiag('stacks', 'no-stacks', 'no stack found under stacks/; refusing an empty desired state'));
    }
  }

  // Settings first: a stack on a `mode: swarm` host reads the swarm-only deploy keys.
  const settings = normalizeSettings(settingsSource, validators, stackEntries.map((s) => s.name), diagnostics);
  const stacks: { stack: DesiredStack; source: YamlSource }[] = [];
  for (const entry of stackEntries) {
    const swarm = targetOf(settings.hosts, entry.name)?.mode === 'swarm';
    const loaded = loadStack({ ...entry, swarm }, root, env, validators, parseFile, readRepoFile, rel, diagnostics, secrets);
    if (loaded) stacks.push(loaded);
  }
  diagnostics.push(...referenceDiagnostics(stacks));
  diagnostics.push(...crossTargetReferenceDiagnostics(stacks, settings.hosts));
  if (opts.refuseHosts && settings.hosts.length > 0 && settingsSource) {
    diagnostics.push(settingsSource.diag('hosts-unsupported', ['hosts'], opts.refuseHosts, { key: true }));
  }

  // A value the interpolation cast table could not convert ("30s" for an
  // integer) fails the schema too; the cast's message says it better, once.
  const castFailed = new Set(diagnostics.filter((d) => d.code === 'type').map((d) => `${d.file}\0${d.path}`));
  const sorted = sortDiagnostics(diagnostics.filter((d) => !(d.code === 'schema' && castFailed.has(`${d.file}\0${d.path}`))));
  const ok = !sorted.some((d) => d.severity === 'error');
  return {
    state: ok ? { root, settings, stacks: stacks.map((s) => s.stack), ...(secrets.materials.paths.length > 0 ? { secretFiles: secrets.materials } : {}) } : null,
    diagnostics: sorted,
    sources: new Map(stacks.map((s) => [s.stack.name, s.source])),
    secrets,
  };
}

const BROKEN_LINK = 'this is a symbolic link to a path that does not exist (or a loop of links)';

/** The real path, or null for a link that leads nowhere (dangling, or a loop). */
function realPathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** Whether a directory entry exists, even as a broken link (existsSync follows links and says no). */
function entryExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function loadStack(
  entry: { name: string; dir: string; file: string; swarm: boolean },
  root: string,
  env: Record<string, string | undefined>,
  validators: Validators,
  parseFile: (abs: string) => YamlSource | null,
  readRepoFile: (abs: string) => { text: string } | { error: Diagnostic },
  rel: (abs: string) => string,
  diagnostics: Diagnostic[],
  secrets: RepoSecrets,
): { stack: DesiredStack; source: YamlSource } | null {
  // .env values, interpolated against the process env; the process env wins (as in Compose).
  let dotenv: Record<string, string> = {};
  const envPath = join(entry.dir, '.env');
  if (entryExists(envPath)) {
    const read = readRepoFile(envPath);
    if ('error' in read) diagnostics.push(read.error);
    else {
      const parsed = parseDotenv(read.text, (n) => env[n]);
      for (const e of parsed.errors) {
        diagnostics.push({ severity: 'error', code: 'dotenv', file: rel(envPath), line: e.line, col: e.col, path: '', message: e.message });
      }
      dotenv = parsed.values;
    }
  }
  const lookup: Lookup = (name) => env[name] ?? dotenv[name];

  const parsed = parseFile(entry.file);
  if (!parsed) return null;
  if (parsed.value === null || parsed.value === undefined || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    diagnostics.push({ ...fileDiag(parsed.file, 'schema', 'a Compose file must be a mapping with a `services:` key'), line: 1, col: 1 });
    return null;
  }
  const it = interpolateTree(parsed, lookup);
  diagnostics.push(...it.diagnostics);
  const raw: YamlSource = { ...parsed, value: it.value };

  const local: Diagnostic[] = [];
  local.push(...schemaDiagnostics(validators.compose, raw, raw.value, [], 'the Compose Specification'));
  // `include` and `extends` assemble the stack from several files; its diagnostics point into each.
  const declLookups = new Map<string, Lookup>();
  const source = composeStackFiles(raw, entry, lookup, env, validators, parseFile, readRepoFile, rel, local, declLookups);
  local.push(...unsupportedKeyDiagnostics(source, entry.swarm));
  const services = (source.value as Record<string, unknown>).services;
  if (services && typeof services === 'object' && !Array.isArray(services)) {
    for (const [name, def] of Object.entries(services as Record<string, unknown>)) {
      const x = def && typeof def === 'object' ? (def as Record<string, unknown>)['x-berth'] : undefined;
      if (x !== undefined) local.push(...schemaDiagnostics(validators.xBerth, source, x, ['services', name, 'x-berth'], 'x-berth'));
    }
  }
  // A key the schema does not know is reported once, as unknown, not also as unsupported.
  const unknownAt = new Set(local.filter((d) => d.code === 'schema-unknown-key').map((d) => d.path));
  const reported = local.filter((d) => !(d.code === 'unsupported-key' && unknownAt.has(d.path)));
  // Only shape errors make a service's values unsafe to normalize; unknown or
  // unsupported keys are skipped by normalization and other checks still run.
  const broken = reported.filter((d) => d.severity === 'error' && d.code === 'schema');
  const invalidServices = new Set<string>();
  const invalidTopLevel = new Set<'networks' | 'volumes'>();
  for (const d of broken) {
    const m = /^services\.([^.[]+|\["[^"]*"\])/.exec(d.path);
    if (m) invalidServices.add(m[1]!.startsWith('["') ? (JSON.parse(m[1]!.slice(1, -1)) as string) : m[1]!);
    if (d.path.startsWith('networks')) invalidTopLevel.add('networks');
    if (d.path.startsWith('volumes')) invalidTopLevel.add('volumes');
  }
  diagnostics.push(...reported);
  if (broken.some((d) => d.path === '' || d.path === 'services')) return null;

  const stack = normalizeStack(
    { stack: entry.name, stackDir: entry.dir, root, source, lookup, invalidServices, invalidTopLevel, secrets, swarm: entry.swarm, declLookup: (section, name) => declLookups.get(`${section}\0${name}`) },
    diagnostics,
  );
  return { stack, source };
}
