import { isScalar } from 'yaml';
import type { Diagnostic } from '../model/errors.js';
import type { FilePerms } from '../model/desired.js';
import type { YamlSource, PathSeg } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The long syntax's `uid`, `gid` and `mode` of one `secrets:`/`configs:`
 * reference of a service. Outside swarm `docker compose` bind-mounts a
 * file-based secret and ignores these three (with a warning): the container
 * sees the host file's owner and mode. berth does the same for a plain
 * repository file (it must not chown the checkout), but a decrypted SOPS file
 * is berth's own file, so there it sets them. Values as compose-go reads them:
 * ids are decimal integers; a mode written `0440` or `0o440` is octal, a
 * plain `288` decimal (YAML 1.1 rules), a string is octal digits.
 * null: none given. 'invalid': reported.
 */
export function referencePerms(source: YamlSource, loc: PathSeg[], ref: unknown, out: Diagnostic[]): FilePerms | null | 'invalid' {
  if (!isObj(ref) || (ref.uid === undefined && ref.gid === undefined && ref.mode === undefined)) return null;
  const perms: FilePerms = {};
  let ok = true;
  for (const k of ['uid', 'gid'] as const) {
    if (ref[k] === undefined) continue;
    const s = String(ref[k]).trim();
    if (!/^\d{1,10}$/.test(s) || Number(s) > 0xfffffffe) {
      out.push(source.diag(`invalid-secret-${k}`, [...loc, k], `\`${k}\` must be a numeric id (names are not resolved outside swarm)`));
      ok = false;
    } else perms[k] = Number(s);
  }
  if (ref.mode !== undefined) {
    const mode = parseFileMode(ref.mode, scalarText(source, [...loc, 'mode']));
    if (mode === null) {
      out.push(source.diag('invalid-secret-mode', [...loc, 'mode'], '`mode` must be a file mode up to 0777, written in octal (e.g. 0440)'));
      ok = false;
    } else perms.mode = mode;
  }
  return ok ? perms : 'invalid';
}

/** The warning for a plain (not SOPS) file: the same as `docker compose` gives, with what to do instead. */
export function ignoredPermsDiagnostic(source: YamlSource, loc: PathSeg[], what: string): Diagnostic {
  return source.diag(
    'secret-perms-ignored',
    loc,
    `${what}: \`uid\`, \`gid\` and \`mode\` are ignored for a plain file, as docker compose ignores them outside swarm (the container sees the repository file's owner and mode); berth sets them on a SOPS-encrypted file, whose plaintext it writes itself`,
    { severity: 'warning' },
  );
}

function scalarText(source: YamlSource, path: PathSeg[]): string | null {
  const node = source.doc().getIn(path, true);
  return isScalar(node) && typeof node.source === 'string' ? node.source : null;
}

/** `text`: the scalar as written (null when the value came through interpolation or a merge). */
export function parseFileMode(value: unknown, text: string | null): number | null {
  let mode: number;
  if (typeof value === 'string') {
    if (!/^(0o)?[0-7]{1,4}$/.test(value.trim())) return null;
    mode = parseInt(value.trim().replace(/^0o/, ''), 8);
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    // YAML 1.2 reads `0440` as decimal 440; compose-go (go-yaml) reads it as octal.
    mode = text !== null && /^0[0-7]+$/.test(text) ? parseInt(text, 8) : value;
  } else return null;
  return mode >= 0 && mode <= 0o777 ? mode : null;
}
