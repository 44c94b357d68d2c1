#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { processIO, type CliIO } from './io.js';
import { VERSION } from './version.js';
import type { DockerPort } from '../ports/docker.js';
import type { Validators } from '../compose/schema.js';
import type { CliContext } from './context.js';

/** What tests may replace: the Docker port (e.g. a call-counting wrapper), and compiled schemas to share across runs. */
export interface CliOverrides {
  docker?: () => Promise<DockerPort>;
  validators?: Validators;
}

/** Build the command tree; each action returns its exit code through `setCode`. */
export function buildProgram(io: CliIO, setCode: (code: number) => void, overrides: CliOverrides = {}): Command {
  const program = new Command();
  program
    .name('berth')
    .description('GitOps controller for Docker hosts: converge plain Compose files from git')
    .version(VERSION)
    .exitOverride()
    // Options after a subcommand are its own: `history show REV --json` is show's --json, not history's.
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  program
    .command('validate')
    .description('check the desired-state repository: 0 valid, 1 invalid')
    .option('--repo <dir>', 'desired-state repository directory', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { repo: string; json?: boolean }) => {
      const { runValidate } = await import('./validate.js');
      setCode(await runValidate(opts, io, overrides.validators));
    });

  // Command modules load on use: `--version` and `--help` load no Compose
  // parser, `validate` no Docker client, git or planner.
  let ctx: CliContext | null = null;
  const context = async (): Promise<CliContext> => {
    if (ctx) return ctx;
    const { createContext } = await import('./context.js');
    ctx = createContext(io);
    if (overrides.docker) ctx.docker = overrides.docker;
    if (overrides.validators) ctx.validators = overrides.validators;
    return ctx;
  };
  const planApply = () => import('./plan-apply.js');
  const driftStatus = () => import('./drift-status.js');
  const repoOpt = ['--repo <dir|url>', 'desired-state repository: a directory or a git URL', '.'] as const;
  const branchOpt = ['--branch <name>', 'branch to fetch when --repo is a URL', 'main'] as const;
  const hostOpt = ['--host <name>', 'only this host of berth.yaml `hosts:`'] as const;

  program
    .command('plan')
    .description('show what apply would change: 0 in sync, 2 changes pending, 1 error')
    .option(...repoOpt)
    .option(...branchOpt)
    .option(...hostOpt)
    .option('--json', 'machine-readable output')
    .option('--refresh', 'ask the registries (manifest HEAD) whether any tag moved')
    .addOption(new Option('--lint <mode>', 'lint findings and notices below the plan').choices(['summary', 'full']).default('summary'))
    .action(async (opts: { repo: string; branch: string; json?: boolean; host?: string; refresh?: boolean; lint: string }) => setCode(await (await planApply()).runPlan(await context(), opts)));

  program
    .command('apply')
    .description('converge the host: 0 converged, 1 failed (failed steps are left as they were)')
    .option(...repoOpt)
    .option(...branchOpt)
    .option(...hostOpt)
    .option('--json', 'machine-readable output')
    .action(async (opts: { repo: string; branch: string; json?: boolean; host?: string }) => setCode(await (await planApply()).runApply(await context(), opts)));

  program
    .command('drift')
    .description('compare the host with what berth last applied: 0 no drift, 2 drift found, 1 error')
    .option('--repo <dir|url>', 'baseline when nothing was applied yet (default: .)')
    .option(...branchOpt)
    .option(...hostOpt)
    .option('--json', 'machine-readable output')
    .action(async (opts: { repo?: string; branch: string; json?: boolean; host?: string }) => setCode(await (await driftStatus()).runDrift(await context(), opts)));

  program
    .command('status')
    .description('applied revision and the state and health of every service')
    .option(...hostOpt)
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean; host?: string }) => setCode(await (await driftStatus()).runStatus(await context(), opts)));

  program
    .command('lint')
    .description('check the desired state against the hardening rules: 0 clean, 2 warnings, 1 errors')
    .option(...repoOpt)
    .option(...branchOpt)
    .option('--json', 'machine-readable output')
    .action(async (opts: { repo: string; branch: string; json?: boolean }) => {
      const { runLint } = await import('./lint.js');
      setCode(await runLint(io, opts, context));
    });

  program
    .command('run')
    .description('the controller: reconcile on an interval, on webhooks, on file changes and on Docker events')
    .option('--repo <dir|url>', 'desired-state repository: a directory or a git URL')
    .option(...branchOpt)
    .option('--interval <duration>', 'how often to fetch and reconcile (500ms, 30s, 5m, 1h)', '60s')
    .option('--listen <host:port>', 'HTTP address for /healthz /readyz /metrics /webhook /api/status', '127.0.0.1:9090')
    .option('--name <host>', 'host name used in messages (default: the hostname)')
    .option('--insecure-webhook', 'accept unsigned webhooks when BERTH_WEBHOOK_SECRET is not set')
    .option('--public-url <url>', 'where people reach the dashboard; commit statuses link to it')
    .option('--image-interval <duration>', 'how often image automation lists registry tags for x-berth.imagePolicy (1m, 5m, 1h)', '5m')
    .option(...hostOpt)
    .action(async (opts: { repo?: string; branch: string; interval: string; listen: string; name?: string; insecureWebhook?: boolean; publicUrl?: string; imageInterval?: string; host?: string }) => {
      const { runController } = await import('./run.js');
      setCode(await runController(await context(), opts));
    });

  const history = program
    .command('history')
    .description('the deploys this host applied, newest first (revision, author, subject, time, result, ops, duration, rollbacks)')
    .option('--limit <n>', 'how many deploys to show', '20')
    .option(...hostOpt)
    .option('--json', 'machine-readable output')
    .action(async (opts: { limit: string; json?: boolean; host?: string }) => {
      const { runHistoryOnHosts } = await import('./history.js');
      setCode(await runHistoryOnHosts(await context(), opts));
    });
  history
    .command('show <rev>')
    .description('the plan one deploy ran and the outcome of each op: 0 found, 1 not recorded')
    .option(...hostOpt)
    .option('--json', 'machine-readable output')
    .action(async (rev: string, opts: { json?: boolean; host?: string }) => {
      const { runHistoryShowOnHosts } = await import('./history.js');
      setCode(await runHistoryShowOnHosts(await context(), rev, opts));
    });

  const notify = program.command('notify').description('chat notifications');
  notify
    .command('test')
    .description('send a test message to every notifier of berth.yaml: 0 all delivered, 1 any failed')
    .option(...repoOpt)
    .option('--name <host>', 'host name used in the message (default: the hostname)')
    .action(async (opts: { repo: string; name?: string }) => {
      const { runNotifyTest } = await import('./notify-test.js');
      setCode(await runNotifyTest(await context(), opts));
    });

  return program;
}

export async function main(argv: string[], io: CliIO = processIO(), overrides: CliOverrides = {}): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c), overrides);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 1.
      return e.exitCode === 0 ? 0 : 1;
    }
    io.err(`berth: ${(e as Error).message}`);
    return 1;
  }
  return code;
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

/** Run as the `berth` process: exit with the command's code. The bundle's start-up file (scripts/bundle.mjs) calls this. */
export function runAsProcess(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`berth: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

if (invokedDirectly) runAsProcess(process.argv.slice(2));
