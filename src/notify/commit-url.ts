/**
 * The web link of a commit, for chat messages (issue 6: "links the commit when
 * the repo URL is a known forge"). Pure: no I/O, no DNS.
 *
 * URL forms:
 *  - GitHub:                 https://github.com/<owner>/<repo>/commit/<sha>
 *  - GitLab (subgroups too): https://gitlab.com/<group>/<sub>/<repo>/-/commit/<sha>
 *  - Gitea, Forgejo, Codeberg: https://<host>/<owner>/<repo>/commit/<sha>
 *
 * Accepted repository URLs: https/http (credentials stripped), ssh://[user@]host[:port]/path,
 * scp-like `git@host:owner/repo.git`, git://. A trailing `.git` and `/` are dropped.
 * Local paths and unknown hosts give null; a self-hosted forge is named by a hint
 * (`{ 'git.example.com': 'gitea' }`).
 */
export type Forge = 'github' | 'gitlab' | 'gitea';

export type ForgeHints = Readonly<Record<string, Forge>>;

const KNOWN: ForgeHints = {
  'github.com': 'github',
  'www.github.com': 'github',
  'gitlab.com': 'gitlab',
  'codeberg.org': 'gitea',
  'gitea.com': 'gitea',
};

const SHA = /^[0-9a-f]{7,64}$/i;
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface RepoLocation {
  /** https or http: what the web UI is served on. */
  scheme: 'https' | 'http';
  hostname: string;
  /** Kept only for http(s) repository URLs: an ssh port says nothing about the web port. */
  port: string;
  segments: string[];
}

export function parseRepoUrl(repoUrl: string): RepoLocation | null {
  const raw = repoUrl.trim();
  if (raw === '') return null;

  // scp-like: [user@]host:path — no scheme, a colon before the first slash.
  const scp = /^(?:[^@/\s]+@)?([A-Za-z0-9.-]+):(?!\/\/)([^\s]+)$/.exec(raw);
  if (scp && !raw.includes('://')) {
    const [, host, path] = scp;
    if (!host || !path || /^[A-Za-z]$/.test(host)) return null; // C:\… is a Windows path
    return location('https', host, '', path);
  }

  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  switch (u.protocol) {
    case 'https:':
    case 'http:':
      return location(u.protocol === 'http:' ? 'http' : 'https', u.hostname, u.port, u.pathname);
    case 'ssh:':
    case 'git+ssh:':
    case 'ssh+git:':
    case 'git:':
      return location('https', u.hostname, '', u.pathname);
    default:
      return null;
  }
}

function location(scheme: 'https' | 'http', hostname: string, port: string, path: string): RepoLocation | null {
  const host = hostname.toLowerCase();
  if (!host) return null;
  let p = path.split(/[?#]/, 1)[0] ?? '';
  p = p.replace(/\/+$/, '').replace(/\.git$/i, '').replace(/^\/+/, '');
  const segments = p.split('/').filter((s) => s !== '');
  if (segments.length < 2 || !segments.every((s) => SEGMENT.test(s))) return null;
  return { scheme, hostname: host, port, segments };
}

export function forgeOf(hostname: string, hints: ForgeHints = {}): Forge | null {
  const h = hostname.toLowerCase();
  for (const [name, forge] of Object.entries(hints)) if (name.toLowerCase() === h) return forge;
  return KNOWN[h] ?? null;
}

/**
 * Commit link for `revision` in the repository at `repoUrl`, or null when the
 * forge is not known, the URL is a local path, or the revision is not a hex sha.
 */
export function commitUrl(repoUrl: string | null | undefined, revision: string | null | undefined, hints: ForgeHints = {}): string | null {
  if (!repoUrl || !revision || !SHA.test(revision)) return null;
  const loc = parseRepoUrl(repoUrl);
  if (!loc) return null;
  const forge = forgeOf(loc.hostname, hints);
  if (!forge) return null;
  if (forge !== 'gitlab' && loc.segments.length !== 2) return null; // GitHub and Gitea are owner/repo
  const base = `${loc.scheme}://${loc.hostname}${loc.port ? `:${loc.port}` : ''}/${loc.segments.join('/')}`;
  const sha = revision.toLowerCase();
  return forge === 'gitlab' ? `${base}/-/commit/${sha}` : `${base}/commit/${sha}`;
}
