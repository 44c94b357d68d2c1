import { hostname } from 'node:os';
import { createNotifier, notifierName } from '../adapters/http-notifier.js';
import { loadDesiredState } from '../compose/load.js';
import { NotifyDispatcher } from '../notify/dispatcher.js';
import { testMessage } from '../notify/messages.js';
import { silentLogger } from '../ports/logger.js';
import type { CliContext } from './context.js';
import { renderDiagnostic } from './render-diagnostics.js';

/** `berth notify test`: one message to each notifier of berth.yaml; says which failed (never their URLs). */
export async function runNotifyTest(ctx: CliContext, opts: { repo: string; name?: string }): Promise<number> {
  const { state, diagnostics } = loadDesiredState(opts.repo, { env: ctx.io.env });
  if (!state) {
    for (const d of diagnostics.filter((x) => x.severity === 'error')) ctx.io.err(renderDiagnostic(d));
    return 1;
  }
  const specs = state.settings.notify.filter((s) => s.url.trim() !== '');
  if (specs.length === 0) {
    ctx.io.err('no notifier with a url in berth.yaml (`notify:`); nothing to test');
    return 1;
  }
  const dispatcher = new NotifyDispatcher(specs.map((s) => createNotifier(s)), ctx.clock, silentLogger);
  const results = await dispatcher.sendNow(testMessage({ host: opts.name ?? hostname(), repo: '', at: new Date(ctx.clock.now()) }));
  for (const [i, r] of results.entries()) {
    ctx.io.out(`  ${r.ok ? '✓' : '✗'} ${r.name || notifierName(specs[i]!)}${r.ok ? '' : `: ${r.error ?? 'failed'}`}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  ctx.io.out(failed === 0 ? `All ${results.length} notifiers reached.` : `${failed} of ${results.length} notifiers failed.`);
  return failed === 0 ? 0 : 1;
}
