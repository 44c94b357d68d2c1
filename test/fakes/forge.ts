import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { recordCapture } from '../support/capture.js';

/**
 * A fake forge API for tests: a real HTTP server on 127.0.0.1 (port 0) that
 * answers the REST calls berth makes, in each forge's documented shapes.
 *
 *  GitHub (docs.github.com/rest), base `${url}` (as https://api.github.com):
 *    POST  /repos/{o}/{r}/statuses/{sha}          {state, context, description, target_url} → 201 {id, state, context}
 *    GET   /repos/{o}/{r}/issues/{n}/comments     ?per_page&page → 200 [{id, body, user}]
 *    POST  /repos/{o}/{r}/issues/{n}/comments     {body} → 201 {id, body}
 *    PATCH /repos/{o}/{r}/issues/comments/{id}    {body} → 200 {id, body}
 *    GET   /repos/{o}/{r}/pulls                    ?state&head&per_page&page → 200 [{number, html_url, head: {ref}, base: {ref}, title, body}]
 *    POST  /repos/{o}/{r}/pulls                    {title, head, base, body} → 201 {number, html_url, …}
 *    auth: `Authorization: Bearer TOKEN`
 *  Gitea/Forgejo (gitea.com/api/swagger), base `${url}/api/v1`: the same paths,
 *    `?limit&page`, `Authorization: token TOKEN`.
 *  GitLab (docs.gitlab.com/api), base `${url}/api/v4`:
 *    POST /projects/{id}/statuses/{sha}                   {state, name, description, target_url} → 201
 *    GET  /projects/{id}/merge_requests/{iid}/notes       ?per_page&page → 200 [{id, body, system}]
 *    POST /projects/{id}/merge_requests/{iid}/notes       {body} → 201 {id, body}
 *    PUT  /projects/{id}/merge_requests/{iid}/notes/{nid} {body} → 200 {id, body}
 *    GET  /projects/{id}/merge_requests                   ?state&source_branch → 200 [{iid, web_url, source_branch, target_branch}]
 *    POST /projects/{id}/merge_requests                   {source_branch, target_branch, title, description} → 201 {iid, web_url, …}
 *    auth: `PRIVATE-TOKEN: TOKEN`
 *
 * A wrong or missing token → 401. `failNext(n, status, headers)` answers the
 * next n calls with that status (429 with Retry-After, 503…). Every request
 * is recorded (method, path, headers, body) so tests can look for secrets.
 */
export interface ForgeRequestRecord {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeComment {
  id: number;
  pr: string;
  body: string;
}

export interface FakeStatus {
  sha: string;
  state: string;
  context: string;
  description: string;
  targetUrl: string | null;
}

export interface FakePullRequest {
  number: number;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
}

export class FakeForge {
  readonly requests: ForgeRequestRecord[] = [];
  readonly pulls: FakePullRequest[] = [];
  readonly comments: FakeComment[] = [];
  readonly statuses: FakeStatus[] = [];
  private nextId = 1000;
  private failures: { status: number; headers: Record<string, string> }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly token: string,
  ) {}

  static async start(token: string): Promise<FakeForge> {
    let fake: FakeForge | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        fake!.requests.push(rec);
        // What a forge would show to everyone: comment and status bodies.
        recordCapture('forge request body', rec.body);
        const { status, body, headers } = fake!.answer(rec);
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    fake = new FakeForge(server, url, token);
    return fake;
  }

  failNext(n: number, status: number, headers: Record<string, string> = {}): void {
    for (let i = 0; i < n; i++) this.failures.push({ status, headers });
  }

  /** Everything the fake received, for "this secret went nowhere" checks. */
  allReceived(): string {
    return this.requests.map((r) => `${r.method} ${r.path}\n${JSON.stringify(r.headers)}\n${r.body}`).join('\n');
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private authorized(h: IncomingHttpHeaders): boolean {
    return h.authorization === `Bearer ${this.token}` || h.authorization === `token ${this.token}` || h['private-token'] === this.token;
  }

  private answer(r: ForgeRequestRecord): { status: number; body: unknown; headers?: Record<string, string> } {
    const f = this.failures.shift();
    if (f) return { status: f.status, body: { message: 'injected failure' }, headers: f.headers };
    if (!this.authorized(r.headers)) return { status: 401, body: { message: 'Bad credentials' } };
    const url = new URL(r.path, this.url);
    const p = url.pathname;
    const json = () => JSON.parse(r.body || '{}') as Record<string, string>;
    let m: RegExpExecArray | null;
    // GitHub and Gitea (under /api/v1)
    if ((m = /^(?:\/api\/v1)?\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]+)$/.exec(p)) && r.method === 'POST') {
      const b = json();
      if (!['pending', 'success', 'failure', 'error'].includes(b.state!)) return { status: 422, body: { message: 'Validation Failed' } };
      this.statuses.push({ sha: m[3]!, state: b.state!, context: b.context ?? 'default', description: b.description ?? '', targetUrl: b.target_url ?? null });
      return { status: 201, body: { id: this.nextId++, state: b.state, context: b.context } };
    }
    if ((m = /^(?:\/api\/v1)?\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(p))) {
      const pr = `${m[1]}/${m[2]}#${m[3]}`;
      if (r.method === 'GET') {
        const size = Number(url.searchParams.get('per_page') ?? url.searchParams.get('limit') ?? 30);
        const page = Number(url.searchParams.get('page') ?? 1);
        return { status: 200, body: this.comments.filter((c) => c.pr === pr).slice((page - 1) * size, page * size).map((c) => ({ id: c.id, body: c.body, user: { login: 'berth' } })) };
      }
      if (r.method === 'POST') {
        const c = { id: this.nextId++, pr, body: json().body ?? '' };
        this.comments.push(c);
        return { status: 201, body: { id: c.id, body: c.body } };
      }
    }
    if ((m = /^(?:\/api\/v1)?\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(p)) && r.method === 'PATCH') {
      const c = this.comments.find((x) => x.id === Number(m![3]));
      if (!c) return { status: 404, body: { message: 'Not Found' } };
      c.body = json().body ?? '';
      return { status: 200, body: { id: c.id, body: c.body } };
    }
    if ((m = /^(?:\/api\/v1)?\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(p))) {
      const repo = `${m[1]}/${m[2]}`;
      const shape = (pr: FakePullRequest) => ({ number: pr.number, html_url: `${this.url}/${repo}/pull/${pr.number}`, head: { ref: pr.head }, base: { ref: pr.base }, title: pr.title, body: pr.body });
      if (r.method === 'GET') {
        const head = url.searchParams.get('head');
        const mine = this.pulls.filter((x) => x.repo === repo && (!head || !head.includes(':') || head.split(':')[1] === x.head));
        return { status: 200, body: mine.map(shape) };
      }
      if (r.method === 'POST') {
        const b = json();
        if (!b.title || !b.head || !b.base) return { status: 422, body: { message: 'Validation Failed' } };
        const pr = { number: this.pulls.length + 1, repo, head: b.head, base: b.base, title: b.title, body: b.body ?? '' };
        this.pulls.push(pr);
        return { status: 201, body: shape(pr) };
      }
    }
    // GitLab
    if ((m = /^\/api\/v4\/projects\/([^/]+)\/merge_requests$/.exec(p))) {
      const repo = decodeURIComponent(m[1]!);
      const shape = (pr: FakePullRequest) => ({ iid: pr.number, web_url: `${this.url}/${repo}/-/merge_requests/${pr.number}`, source_branch: pr.head, target_branch: pr.base, title: pr.title, description: pr.body });
      if (r.method === 'GET') {
        const source = url.searchParams.get('source_branch');
        return { status: 200, body: this.pulls.filter((x) => x.repo === repo && (!source || x.head === source)).map(shape) };
      }
      if (r.method === 'POST') {
        const b = json();
        if (!b.title || !b.source_branch || !b.target_branch) return { status: 400, body: { message: 'title is missing' } };
        const pr = { number: this.pulls.length + 1, repo, head: b.source_branch, base: b.target_branch, title: b.title, body: b.description ?? '' };
        this.pulls.push(pr);
        return { status: 201, body: shape(pr) };
      }
    }
    if ((m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]+)$/.exec(p)) && r.method === 'POST') {
      const b = json();
      if (!['pending', 'running', 'success', 'failed', 'canceled'].includes(b.state!)) return { status: 400, body: { message: 'state is invalid' } };
      this.statuses.push({ sha: m[2]!, state: b.state!, context: b.name ?? 'default', description: b.description ?? '', targetUrl: b.target_url ?? null });
      return { status: 201, body: { id: this.nextId++, status: b.state, name: b.name } };
    }
    if ((m = /^\/api\/v4\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes$/.exec(p))) {
      const pr = `${decodeURIComponent(m[1]!)}!${m[2]}`;
      if (r.method === 'GET') {
        const size = Number(url.searchParams.get('per_page') ?? 20);
        const page = Number(url.searchParams.get('page') ?? 1);
        return { status: 200, body: this.comments.filter((c) => c.pr === pr).slice((page - 1) * size, page * size).map((c) => ({ id: c.id, body: c.body, system: false })) };
      }
      if (r.method === 'POST') {
        const c = { id: this.nextId++, pr, body: json().body ?? '' };
        this.comments.push(c);
        return { status: 201, body: { id: c.id, body: c.body } };
      }
    }
    if ((m = /^\/api\/v4\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes\/(\d+)$/.exec(p)) && r.method === 'PUT') {
      const c = this.comments.find((x) => x.id === Number(m![3]));
      if (!c) return { status: 404, body: { message: '404 Not found' } };
      c.body = json().body ?? '';
      return { status: 200, body: { id: c.id, body: c.body } };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}
