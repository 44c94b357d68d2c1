// scripts/test-hosts.sh: the CLI over TestBed (test/support/private-dockerd.ts).
//
//   start N   N private engines on one bridge, berth-test/* images loaded; prints each DOCKER_HOST
//   status    the engines of the running bed and whether each answers
//   kill NAME SIGKILL one engine with its containerd and containers (a host crash)
//   up NAME   start a killed or stopped engine again
//   stop      remove everything the bed holds and the bed itself
//
// The running bed is recorded in $BERTH_TEST_HOSTS_DIR/bed.json (default /tmp/berth-test-hosts).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker } from './engine.js';
import { PrivateDockerd, TestBed, type BedRecord } from './private-dockerd.js';

const DIR = process.env.BERTH_TEST_HOSTS_DIR || '/tmp/berth-test-hosts';
const FILE = join(DIR, 'bed.json');
const say = (m: string) => process.stdout.write(`${m}\n`);
const fail = (m: string): never => {
  process.stderr.write(`[test-hosts] ${m}\n`);
  process.exit(1);
};

function running(): TestBed | null {
  return existsSync(FILE) ? TestBed.attach(JSON.parse(readFileSync(FILE, 'utf8')) as BedRecord) : null;
}

function engine(bed: TestBed | null, name: string | undefined): PrivateDockerd {
  if (!bed) return fail(`no bed is running (${FILE} is missing): start one with \`start N\``);
  const e = bed.engines.find((x) => x.name === name);
  return e ?? fail(`no engine ${name ?? '(none given)'}; the bed has ${bed.engines.map((x) => x.name).join(', ')}`);
}

function print(bed: TestBed): void {
  for (const e of bed.engines) say(`${e.name}\tDOCKER_HOST=${e.tcpHost}\t${e.dockerHost}\t${e.pid() !== null ? 'running' : 'stopped'}`);
}

async function main(): Promise<void> {
  const [cmd, arg] = process.argv.slice(2);
  const why = PrivateDockerd.unavailable();
  if (why) fail(why);
  if (cmd === 'start') {
    const n = Number(arg);
    if (!Number.isInteger(n) || n < 1 || n > 20) fail(`start N: N must be a whole number 1–20, not ${arg ?? '(none)'}`);
    if (running()) fail(`a bed is running already (${FILE}); \`stop\` it first`);
    // Every stand-in the shared engine has (scripts/test-images.sh builds them), by `docker save | docker load`.
    const images = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', 'berth-test/*'])).stdout.split('\n').filter((i) => i && !i.endsWith(':<none>'));
    const bed = await TestBed.start(n, { images, prefix: 'berth-host' });
    mkdirSync(DIR, { recursive: true });
    writeFileSync(FILE, JSON.stringify(bed.rec, null, 2));
    print(bed);
    process.stderr.write(`[test-hosts] ${n} engines on ${bed.rec.subnet} (bridge in namespace ${bed.rec.hub}); loaded ${images.length} images: ${images.join(' ')}\n`);
  } else if (cmd === 'status') {
    const bed = running();
    if (!bed) fail(`no bed is running (${FILE} is missing)`);
    print(bed!);
  } else if (cmd === 'kill') {
    await engine(running(), arg).kill();
  } else if (cmd === 'up') {
    await engine(running(), arg).up();
  } else if (cmd === 'stop') {
    const bed = running();
    if (!bed) {
      say('no bed is running');
      return;
    }
    await bed.destroy();
    rmSync(FILE, { force: true });
    say(`stopped ${bed.engines.length} engines`);
  } else {
    fail('usage: test-hosts.sh start N | status | kill NAME | up NAME | stop');
  }
}

await main();
