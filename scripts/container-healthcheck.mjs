// Docker HEALTHCHECK of the berth image: GET /healthz of `berth run`.
//
// The slim base has no curl or wget, so node does the request. `berth run`
// listens on 127.0.0.1:9090 unless told otherwise, and in a container it is
// usually told `--listen 0.0.0.0:9090` (so Traefik can reach the webhook); the
// check reads the address from the command line of the running berth process
// so that it follows whatever --listen says.
import { readFileSync, readdirSync } from 'node:fs';

const TIMEOUT_MS = 3_000;

/** The `--listen` value of a process in this container, or the CLI default. */
function listenArg() {
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).sort((a, b) => Number(a) - Number(b));
  for (const pid of pids) {
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // the process ended meanwhile
    }
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--listen' && args[i + 1]) return args[i + 1];
      if (args[i].startsWith('--listen=')) return args[i].slice('--listen='.length);
    }
  }
  return '127.0.0.1:9090';
}

/** host:port, [v6]:port or a bare port → a URL on an address this container can dial. */
function healthUrl(listen) {
  const s = listen.trim();
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s) ?? /^()(\d+)$/.exec(s);
  if (!m) return 'http://127.0.0.1:9090/healthz';
  let host = m[1] || '127.0.0.1';
  // a wildcard address accepts connections on loopback too
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${m[2]}/healthz`;
}

const url = process.env.BERTH_HEALTHCHECK_URL || healthUrl(listenArg());
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (res.status !== 200) {
    console.error(`${url}: HTTP ${res.status}`);
    process.exit(1);
  }
  console.log(`${url}: ok`);
} catch (e) {
  console.error(`${url}: ${e instanceof Error ? (e.cause?.message ?? e.message) : String(e)}`);
  process.exit(1);
}
