import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import type { ServiceSpec } from '../model/desired.js';
import type { GitPort } from '../ports/git.js';
import { writeTar, type TarEntry } from './tar-writer.js';

// A CommonJS module whose types declare an ES default export: at run time the import is the factory itself.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** The name an inline Dockerfile gets inside the context archive. */
export const INLINE_DOCKERFILE = '.berth-inline.Dockerfile';
const MAX_CONTEXT_BYTES = 512 * 1024 * 1024;

/**
 * The tar archive `POST /build` reads: the context's files as committed (git's
 * objects, so a later checkout cannot change what is built) or, uncommitted,
 * as on disk; `.dockerignore` honoured as the docker CLI does (the Dockerfile
 * and `.dockerignore` are sent even when ignored). Bounded in size.
 */
export async function buildContextArchive(
  root: string,
  spec: ServiceSpec,
  git: Pick<GitPort, 'readTree'> | null,
): Promise<{ tar: Buffer; dockerfile: string }> {
  const build = spec.build!;
  const ctxId = spec.files?.find((f) => f.kind === 'build-context' && f.path === build.context)?.id ?? null;
  const tree = ctxId?.startsWith('git:tree:') ? ctxId.slice('git:tree:'.length) : null;
  const ctxDir = join(root, build.context);
  let entries: TarEntry[] = tree && git
    ? (await git.readTree(root, tree)).map((f) =>
        f.mode === '120000' ? { path: f.path, mode: 0o777, data: Buffer.alloc(0), linkTarget: f.data.toString('utf8') } : { path: f.path, mode: f.mode === '100755' ? 0o755 : 0o644, data: f.data },
      )
    : await walk(ctxDir);
  const dockerfile = build.dockerfileInline !== null ? INLINE_DOCKERFILE : build.dockerfile!;
  const ignoreFile = entries.find((e) => e.path === '.dockerignore');
  if (ignoreFile) {
    const ig = dockerignore({ ignorecase: false }).add(ignoreFile.data.toString('utf8'));
    entries = entries.filter((e) => e.path === dockerfile || e.path === '.dockerignore' || !ig.ignores(e.path));
  }
  if (build.dockerfileInline !== null) entries.push({ path: INLINE_DOCKERFILE, mode: 0o644, data: Buffer.from(build.dockerfileInline, 'utf8') });
  const size = entries.reduce((n, e) => n + e.data.length, 0);
  if (size > MAX_CONTEXT_BYTES) {
    throw new Error(`build context ${build.context} is ${Math.round(size / 1048576)} MiB (berth sends up to ${MAX_CONTEXT_BYTES / 1048576} MiB); list what the build does not need in its .dockerignore`);
  }
  return { tar: writeTar(entries.sort((a, b) => (a.path < b.path ? -1 : 1))), dockerfile };
}

async function walk(dir: string, rel = ''): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name === '.git' && rel === '') continue;
    const p = join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(p);
    if (st.isSymbolicLink()) out.push({ path: r, mode: 0o777, data: Buffer.alloc(0), linkTarget: await readlink(p) });
    else if (st.isDirectory()) out.push(...(await walk(p, r)));
    else if (st.isFile()) out.push({ path: r, mode: st.mode & 0o111 ? 0o755 : 0o644, data: await readFile(p) });
  }
  return out;
}
