import { homedir } from 'node:os';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { MountSpec } from '../model/desired.js';
import { parseBytes } from './units.js';

/**
 * Service mounts in both syntaxes into one `MountSpec` form. Named volumes are
 * resolved from the stack's key to the Docker volume name; relative bind paths
 * are resolved against the stack directory, as Compose resolves them against
 * the project directory.
 */
export interface MountContext {
  stackDir: string;
  /** Volume key in the stack's top-level `volumes:` → Docker volume name. */
  volumeName(key: string): string | undefined;
}

export type MountResult = { mount: MountSpec } | { error: string };

const BIND_OPTIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

/** `C:\\data` or `C:/data`: absolute on Windows, which node's posix path functions do not know. */
export function isWindowsAbsolute(s: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(s) || s.startsWith('\\\\');
}

function isPathLike(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || isWindowsAbsolute(s);
}

function hostPath(ctx: MountContext, s: string): string {
  // Compose keeps a Windows absolute path as written; resolving it against the stack directory would mount something else.
  if (isWindowsAbsolute(s)) return s;
  if (s === '~' || s.startsWith('~/')) return resolve(homedir(), s.slice(2));
  return isAbsolute(s) ? resolve(s) : resolve(ctx.stackDir, s);
}

export function parseMountShort(input: string, ctx: MountContext): MountResult {
  const parts = input.split(':');
  // A drive letter's colon is part of the source, not a separator: `C:\\data:/data`, `C:/data:/data`.
  // (`d:/d` stays volume "d" at /d: with a forward slash only a third part, the target, makes it a drive.)
  if (/^[A-Za-z]$/.test(parts[0]!) && parts.length >= 2 && (parts[1]!.startsWith('\\') || (parts.length >= 3 && parts[1]!.startsWith('/') && parts[2]!.startsWith('/')))) {
    parts.splice(0, 2, `${parts[0]}:${parts[1]}`);
  }
  if (parts.length === 1) {
    if (!parts[0]!.startsWith('/')) return { error: `anonymous volume target "${parts[0]}" must be an absolute path` };
    return { mount: { type: 'volume', source: null, target: parts[0]!, readOnly: false, noCopy: false } };
  }
  if (parts.length > 3) return { error: 'expected SOURCE:TARGET[:MODE]' };
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (!target.startsWith('/')) return { error: `target "${target}" must be an absolute path` };
  const opts = mode === '' ? [] : mode.split(',');
  let readOnly = false;
  let selinux = '';
  let propagation = '';
  let noCopy = false;
  for (const o of opts) {
    if (o === 'ro') readOnly = true;
    else if (o === 'rw') readOnly = false;
    else if (o === 'z' || o === 'Z') selinux = o;
    else if (o === 'nocopy') noCopy = true;
    else if (BIND_OPTIONS.has(o)) propagation = o;
    else return { error: `unknown mount option "${o}" (ro, rw, z, Z, nocopy, or a propagation mode)` };
  }
  if (isPathLike(source)) {
    if (noCopy) return { error: '"nocopy" applies to volumes, not bind mounts' };
    return {
      mount: {
        type: 'bind',
        source: hostPath(ctx, source),
        target,
        readOnly,
        propagation: propagation || 'rprivate',
        // The short syntax creates a missing host directory, as Docker's -v does.
        createHostPath: true,
        selinux,
      },
    };
  }
  if (selinux || propagation) return { error: `options "${mode}" apply to bind mounts, not to volume "${source}"` };
  const name = ctx.volumeName(source);
  if (name === undefined) return { error: `refers to undefined volume "${source}": declare it under the top-level \`volumes:\`` };
  return { mount: { type: 'volume', source: name, target, readOnly, noCopy } };
}

type LongMount = {
  type: string;
  source?: string;
  target?: string;
  read_only?: boolean;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string };
  volume?: { nocopy?: boolean };
  tmpfs?: { size?: string | number; mode?: string | number };
  image?: { subpath?: string };
};

export function parseMountLong(m: LongMount, ctx: MountContext): MountResult {
  const target = m.target;
  if (!target || !target.startsWith('/')) return { error: 'a mount needs an absolute `target`' };
  const readOnly = m.read_only === true;
  switch (m.type) {
    case 'bind': {
      if (!m.source) return { error: 'a bind mount needs a `source`' };
      return {
        mount: {
          type: 'bind',
          source: hostPath(ctx, m.source),
          target,
          readOnly,
          propagation: m.bind?.propagation ?? 'rprivate',
          createHostPath: m.bind?.create_host_path ?? false,
          selinux: m.bind?.selinux ?? '',
        },
      };
    }
    case 'volume': {
      if (!m.source) return { mount: { type: 'volume', source: null, target, readOnly, noCopy: m.volume?.nocopy === true } };
      const name = ctx.volumeName(m.source);
      if (name === undefined) return { error: `refers to undefined volume "${m.source}": declare it under the top-level \`volumes:\`` };
      return { mount: { type: 'volume', source: name, target, readOnly, noCopy: m.volume?.nocopy === true } };
    }
    case 'tmpfs': {
      const size = m.tmpfs?.size === undefined ? null : parseBytes(m.tmpfs.size);
      if (m.tmpfs?.size !== undefined && size === null) return { error: `invalid tmpfs size` };
      const mode = m.tmpfs?.mode === undefined ? null : parseMode(m.tmpfs.mode);
      return { mount: { type: 'tmpfs', target, sizeBytes: size, mode, options: [] } };
    }
    case 'image': {
      if (!m.source) return { error: 'an image mount needs a `source` (the image)' };
      // Always read-only: the engine refuses a writable image mount.
      return { mount: { type: 'image', source: m.source, target, readOnly: true, subpath: m.image?.subpath ?? null } };
    }
    default:
      return { error: `mount type "${m.type}" is not supported (volume, bind, tmpfs or image)` };
  }
}

/** The service-level `tmpfs:` key: `/run` or `/run:size=64m,mode=1777,noexec`. */
export function parseTmpfs(input: string): MountResult {
  const colon = input.indexOf(':');
  const target = colon < 0 ? input : input.slice(0, colon);
  if (!target.startsWith('/')) return { error: `tmpfs target "${target}" must be an absolute path` };
  let sizeBytes: number | null = null;
  let mode: number | null = null;
  const options: string[] = [];
  if (colon >= 0) {
    for (const o of input.slice(colon + 1).split(',')) {
      if (o === '') continue;
      const [k, v] = o.split('=', 2) as [string, string?];
      if (k === 'size' && v !== undefined) {
        sizeBytes = parseBytes(v);
        if (sizeBytes === null) return { error: `invalid tmpfs size "${v}"` };
      } else if (k === 'mode' && v !== undefined) {
        mode = parseMode(v);
        if (mode === null) return { error: `invalid tmpfs mode "${v}"` };
      } else options.push(o);
    }
  }
  return { mount: { type: 'tmpfs', target, sizeBytes, mode, options: options.sort() } };
}

export function parseMode(v: string | number): number | null {
  // Modes are octal in Compose files; YAML reads `mode: 1777` as a decimal number, so reinterpret its digits.
  const s = String(v);
  return /^[0-7]{3,4}$/.test(s) ? parseInt(s, 8) : null;
}

/** Is `path` (absolute, `..` collapsed) inside `root`? A `..x` name is inside; only a `..` segment leaves. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

export function compareMounts(a: MountSpec, b: MountSpec): number {
  return a.target < b.target ? -1 : a.target > b.target ? 1 : 0;
}
