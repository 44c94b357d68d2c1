#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { processIO, type CliIO } from './io.js';
import { runValidate } from './validate.js';

/** Build the command tree; each action returns its exit code through `setCode`. */
export function buildProgram(io: CliIO, setCode: (code: number) => void): Command {
  const program = new Command();
  program
    .name('berth')
    .description('GitOps controller for Docker hosts: converge plain Compose files from git')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  program
    .command('validate')
    .description('check the desired-state repository: 0 valid, 1 invalid')
    .option('--repo <dir>', 'desired-state repository directory', '.')
    .option('--json', 'machine-readable output')
    .action((opts: { repo: string; json?: boolean }) => setCode(runValidate(opts, io)));

  return program;
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
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

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`berth: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
