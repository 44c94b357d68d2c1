import PQueue from 'p-queue';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StateDir } from '../adapters/state-dir.js';
import type { DesiredState, TargetSpec } from '../model/desired.js';
import { partitionByTarget, selectTargets, type Target } from '../targets/targets.js';
import { targetContext, type CliContext } from './context.js';
import type { CliIO } from './io.js';

/** At most this many hosts are observed, planned and applied at the same time. */
const HOST_CONCURRENCY = 4;

export interface TargetOptions {
  /** `--host NAME`: narrow to one host of berth.yaml. */
  host?: string;
  json?: boolean;
  /** Print each host's lines as they come, prefixed with the host (apply's progress); otherwise grouped per host. */
  stream?: boolean;
  /** Remember the host's endpoint in its state dir, so `status`/`drift` find it without the repository. */
  record?: boolean;
}

interface HostRun {
  spec: TargetSpec;
  code: number;
  out: string[];
  err: string[];
  /** Set when the host could not be worked on at all (engine down, refused, bad TLS files). */
  failure: string | null;
}

/**
 * Run one command per target. Without `hosts:` in berth.yaml this is just
 * `fn(ctx, everything)` — berth behaves exactly as it did on DOCKER_HOST.
 * With hosts, each runs concurrently on its own context; a host that fails
 * (down, refusing, unreachable) fails only its own part, named, and every
 * other host still converges. Exit code: 1 when any host failed, else the
 * highest code (2 = changes or drift somewhere), else 0.
 */
export async function onTargets(
  ctx: CliContext,
  desired: DesiredState,
  opts: TargetOptions,
  fn: (tctx: CliContext, desired: DesiredState, target: Target) => Promise<number>,
): Promise<number> {
  const selected = selectTargets(partitionByTarget(desired), opts.host);
  if ('error' in selected) {
    ctx.io.err(selected.error);
    return 1;
  }
  const only = selected[0];
  if (selected.length === 1 && only && only.name === null) return fn(ctx, only.desired, only);
  return onHosts(ctx, selected.map((t) => t.spec!), opts, (tctx, spec) => fn(tctx, selected.find((t) => t.name === spec.name)!.desired, selected.find((t) => t.name === spec.name)!));
}

/**
 * The hosts an earlier `apply` recorded in the state dir (`hosts/<name>/target.json`),
 * for `status` and `drift`, which work without the repository.
 */
export async function recordedHosts(ctx: CliContext): Promise<TargetSpec[]> {
  let names: string[];
  try {
    names = (await readdir(join(ctx.state.dir, 'hosts'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
  const specs: TargetSpec[] = [];
  for (const name of names) {
    const spec = await new StateDir(join(ctx.state.dir, 'hosts', name)).readJson<TargetSpec>('target.json').catch(() => null);
    if (spec && spec.name === name && typeof spec.docker === 'string') specs.push({ ...spec, tls: spec.tls ?? null, mode: spec.mode ?? 'engine', stacks: spec.stacks ?? [] });
  }
  return specs;
}

/** Narrow recorded hosts by `--host`, like `selectTargets`. */
export function selectHosts(specs: TargetSpec[], host: string | undefined): TargetSpec[] | { error: string } {
  if (host === undefined) return specs;
  const hit = specs.filter((s) => s.name === host);
  if (hit.length === 0) return { error: `--host ${host}: no such host ${specs.length ? `(hosts: ${specs.map((s) => s.name).join(', ')})` : '(nothing was applied to any host of berth.yaml `hosts:` yet)'}` };
  return hit;
}

/**
 * `status`/`drift` without the repository: on each host an earlier apply
 * recorded (narrowed by `--host`), or — when there are none — on `ctx` itself.
 */
export async function onRecordedHosts(ctx: CliContext, opts: TargetOptions, fn: (tctx: CliContext, spec: TargetSpec | null) => Promise<number>): Promise<number> {
  const hosts = await recordedHosts(ctx);
  if (hosts.length === 0 && opts.host === undefined) return fn(ctx, null);
  const selected = selectHosts(hosts, opts.host);
  if ('error' in selected) {
    ctx.io.err(selected.error);
    return 1;
  }
  return onHosts(ctx, selected, opts, (tctx, spec) => fn(tctx, spec));
}

/** Run `fn` on each host concurrently, each on its own context (see `onTargets`). */
export async function onHosts(ctx: CliContext, specs: TargetSpec[], opts: TargetOptions, fn: (tctx: CliContext, spec: TargetSpec) => Promise<number>): Promise<number> {
  const queue = new PQueue({ concurrency: HOST_CONCURRENCY });
  const runs = await Promise.all(
    specs.map((spec) =>
      queue.add(async (): Promise<HostRun> => {
        const run: HostRun = { spec, code: 0, out: [], err: [], failure: null };
        const tag = `${spec.name} │ `;
        const io: CliIO = {
          env: ctx.io.env,
          out: (l) => (opts.stream && !opts.json ? ctx.io.out(prefixLines(tag, l)) : run.out.push(l)),
          err: (l) => (opts.stream && !opts.json ? ctx.io.err(prefixLines(tag, l)) : run.err.push(l)),
        };
        const tctx = targetContext(ctx, spec, io);
        try {
          if (opts.record) await tctx.state.writeJson('target.json', spec);
          run.code = await fn(tctx, spec);
        } catch (e) {
          run.code = 1;
          run.failure = (e as Error).message;
          if (opts.stream && !opts.json) ctx.io.err(`${tag}host ${spec.name} (${spec.docker}) failed: ${run.failure}`);
        }
        return run;
      }) as Promise<HostRun>,
    ),
  );

  if (opts.json) {
    const hosts = runs.map((r) => ({ host: r.spec.name, docker: r.spec.docker, exitCode: r.code, ...(r.failure !== null ? { error: r.failure } : parsedJson(r.out)) }));
    ctx.io.out(JSON.stringify({ hosts }, null, 2));
  } else if (!opts.stream) {
    runs.forEach((r, i) => {
      ctx.io.out(`${i > 0 ? '\n' : ''}Host ${r.spec.name} · ${r.spec.docker}`);
      for (const l of r.out) ctx.io.out(l);
      for (const l of r.err) ctx.io.err(prefixLines(`${r.spec.name} │ `, l));
      if (r.failure !== null) ctx.io.err(`host ${r.spec.name} (${r.spec.docker}) failed: ${r.failure}`);
    });
  }
  const failed = runs.filter((r) => r.code === 1);
  if (runs.length > 1 && failed.length > 0 && !opts.json) {
    ctx.io.err(`${failed.length} of ${runs.length} hosts failed: ${failed.map((r) => r.spec.name).join(', ')}; the other hosts were handled`);
  }
  if (failed.length > 0) return 1;
  return Math.max(0, ...runs.map((r) => r.code));
}

function prefixLines(tag: string, text: string): string {
  return text
    .split('\n')
    .map((l) => tag + l)
    .join('\n');
}

/** A host's --json output is one JSON document; keep it as an object in the combined one. */
function parsedJson(out: string[]): Record<string, unknown> {
  const text = out.join('\n').trim();
  if (text === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { output: v };
  } catch {
    return { output: text };
  }
}
