import type { GitObject } from '../ports/git.js';

/**
 * Parsers for what the git CLI prints (kept apart from the process calls so
 * they are tested without git): `ls-tree -z`, NUL-separated path lists, and
 * the tar stream `git archive` writes.
 */

/** `<mode> SP <type> SP <oid> TAB <path> NUL`, repeated. */
export function parseLsTree(out: string): Map<string, GitObject> {
  const result = new Map<string, GitObject>();
  for (const rec of out.split('\0')) {
    if (rec === '') continue;
    const tab = rec.indexOf('\t');
    const [mode, type, oid] = rec.slice(0, tab).split(' ') as [string, GitObject['type'], string];
    result.set(rec.slice(tab + 1), { mode, type, oid });
  }
  return result;
}

export function parseNulList(out: string): string[] {
  return out.split('\0').filter((p) => p !== '');
}

export interface TarFile {
  path: string;
  /** Git's modes: `100644`, `100755`, `120000` (then `data` is the link target). */
  mode: string;
  data: Buffer;
}

/**
 * The regular files and links of a ustar/pax stream (git archive's format):
 * 512-byte headers, PAX `x` records carrying long paths, `g` records (git's
 * commit comment) skipped, directories implied by the paths.
 */
export function readTar(buf: Buffer): TarFile[] {
  const files: TarFile[] = [];
  let off = 0;
  let paxPath: string | null = null;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (a: number, n: number) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156]!) || '0';
    const mode = parseInt(field(100, 8).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = paxRecords(data).path ?? null;
      continue;
    }
    if (type === 'g') continue;
    const path = (paxPath ?? name).replace(/\/$/, '');
    paxPath = null;
    if (type === '0' || type === '\0') files.push({ path, mode: mode & 0o111 ? '100755' : '100644', data: Buffer.from(data) });
    else if (type === '2') files.push({ path, mode: '120000', data: Buffer.from(field(157, 100)) });
  }
  return files;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString('utf8'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}
