// A git remote over smart HTTP with basic auth, for tests of remotes that need
// credentials in the URL: `git http-backend` run as CGI behind a local node
// HTTP server (the dumb HTTP protocol cannot serve berth's shallow fetches).
// It can be stopped and started again on the same port, to make the remote
// unreachable (connection refused) and then reachable again.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface GitHttpServer {
  /** `http://user:password@127.0.0.1:port/<repo>` */
  url(repo: string): string;
  /** Requests answered so far (any status). */
  readonly requests: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function gitHttpServer(projectRoot: string, user: string, password: string): Promise<GitHttpServer> {
  let port = 0;
  let server: Server | null = null;
  let requests = 0;
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests += 1;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: user,
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    // CGI output: headers, a blank line, the body.
    let head = Buffer.alloc(0);
    let headerDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      const sep = end === crlf ? 4 : 2;
      headerDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + sep));
    });
    cgi.on('close', () => {
      if (!headerDone) res.writeHead(500);
      res.end();
    });
  };

  const api: GitHttpServer = {
    url: (repo) => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${repo}`,
    get requests() {
      return requests;
    },
    async start() {
      if (server) return;
      const s = createServer(handle);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      port = (s.address() as { port: number }).port;
      server = s;
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await api.start();
  return api;
}
