import type { MountSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { FilePerm } from '../secrets/repo-secrets.js';
import type { Lookup } from './interpolate.js';
import type { StackInput } from './normalize.js';
import { referencePerms } from './secret-perms.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `secrets:`/`configs:` declared with `environment:` (the value of a
 * variable of the stack's environment, or of the include that brought the
 * declaration) or `content:` (inline, already interpolated with the rest of
 * the file). Compose copies such a value into the container as a file,
 * owned by the reference's `uid`/`gid` (default 0) with its `mode`
 * (default 0444); berth writes it, with that owner and mode, into the same
 * content-addressed store as decrypted SOPS files and bind-mounts it
 * read-only. A change of the value is a new path, so a recreate. The value
 * itself is never in the model: the mount names the declaration only.
 */
export function inlineFileMount(
  input: StackInput,
  section: 'secrets' | 'configs',
  name: string,
  decl: Obj,
  ref: unknown,
  target: string,
  refLoc: (string | number)[],
  out: Diagnostic[],
): MountSpec | null {
  const kind = section.slice(0, -1);
  let value: string;
  if (decl.environment !== undefined) {
    const variable = String(decl.environment);
    const lookup: Lookup = input.declLookup?.(section, name) ?? input.lookup;
    const v = lookup(variable);
    if (v === undefined) {
      pushOnce(out, input.source.diag(`${kind}-environment`, [section, name, 'environment'], `environment variable "${variable}" required by ${kind} "${name}" is not set`));
      return null;
    }
    value = v;
  } else if (decl.content !== undefined) {
    value = String(decl.content);
  } else {
    return null; // external, or nothing: reported by the supported-keys check / the schema
  }
  const perm = refPerm(ref, refLoc, input, out);
  if (perm === null) return null;
  if (!input.secrets) {
    out.push(input.source.diag(`${kind}-environment`, [section, name], `${kind} "${name}" from \`${decl.environment !== undefined ? 'environment' : 'content'}\` needs a place to write it (this load has no secrets store)`));
    return null;
  }
  return {
    type: 'bind',
    source: input.secrets.mountPath(name, Buffer.from(value, 'utf8'), perm),
    target,
    readOnly: true,
    propagation: 'rprivate',
    createHostPath: false,
    selinux: '',
    secret: `${kind} ${name}`,
  };
}

/**
 * The reference's owner and mode, as Compose gives the file it copies in: the
 * long syntax's values (read by the same rules as for SOPS files), else root
 * and 0444. null: a bad value, reported.
 */
function refPerm(ref: unknown, loc: (string | number)[], input: StackInput, out: Diagnostic[]): FilePerm | null {
  const given = referencePerms(input.source, loc, ref, out);
  if (given === 'invalid') return null;
  return { uid: given?.uid ?? 0, gid: given?.gid ?? 0, mode: given?.mode ?? 0o444 };
}

/** A declaration several services use is one finding, not one per service. */
function pushOnce(out: Diagnostic[], d: Diagnostic): void {
  if (!out.some((o) => o.code === d.code && o.file === d.file && o.line === d.line && o.col === d.col)) out.push(d);
}
