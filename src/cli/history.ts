import { findHistoryEntry } from '../history/entry.js';
import { renderHistoryShow, renderHistoryText } from '../history/render.js';
import type { StateStore } from '../ports/state.js';
import type { CliContext } from './context.js';
import type { CliIO } from './io.js';
import { onRecordedHosts } from './targets.js';

/** Everything a state dir keeps (the file is bounded, see StateDir.appendHistory). */
const ALL = Number.MAX_SAFE_INTEGER;

/** `berth history [--limit N] [--json]`: 0, or 1 for a bad --limit. */
export async function runHistory(io: CliIO, state: StateStore, opts: { limit: string; json?: boolean }): Promise<number> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    io.err(`berth history: --limit "${opts.limit}" is not a positive whole number`);
    return 1;
  }
  // Newest first, as people read a log.
  const entries = (await state.readHistory(limit)).reverse();
  if (opts.json) {
    // The list is the summary; `history show` has each op.
    io.out(JSON.stringify(entries.map(({ ops: _ops, ...rest }) => rest), null, 2));
  } else {
    io.out(renderHistoryText(entries));
  }
  return 0;
}

/** `berth history show REV [--json]`: 0 found, 1 no apply of that revision is recorded. */
export async function runHistoryShow(io: CliIO, state: StateStore, rev: string, opts: { json?: boolean }): Promise<number> {
  const entry = findHistoryEntry(await state.readHistory(ALL), rev);
  if (!entry) {
    io.err(`berth history show: no recorded apply of a revision starting with "${rev}" (give at least 4 characters of the commit)`);
    return 1;
  }
  io.out(opts.json ? JSON.stringify(entry, null, 2) : renderHistoryShow(entry));
  return 0;
}

/**
 * `berth history [show REV]` with berth.yaml `hosts:`: each host keeps its own
 * history (state dir `hosts/<name>/`), so the list is grouped by host and
 * `--host NAME` narrows it; without hosts, the one history as before. `show`
 * finds a revision on every host that applied it: 1 only when none did.
 */
export async function runHistoryOnHosts(ctx: CliContext, opts: { limit: string; json?: boolean; host?: string }): Promise<number> {
  return onRecordedHosts(ctx, opts, (tctx) => runHistory(tctx.io, tctx.state, opts));
}

export async function runHistoryShowOnHosts(ctx: CliContext, rev: string, opts: { json?: boolean; host?: string }): Promise<number> {
  let found = 0;
  let hosts = 0;
  const code = await onRecordedHosts(ctx, opts, async (tctx) => {
    if (tctx === ctx) return runHistoryShow(tctx.io, tctx.state, rev, opts);
    hosts += 1;
    if (!findHistoryEntry(await tctx.state.readHistory(ALL), rev)) {
      if (!opts.json) tctx.io.out(`no recorded apply of a revision starting with "${rev}" on this host`);
      return 0;
    }
    found += 1;
    return runHistoryShow(tctx.io, tctx.state, rev, opts);
  });
  if (hosts > 0 && found === 0) {
    ctx.io.err(`berth history show: no host recorded an apply of a revision starting with "${rev}" (give at least 4 characters of the commit)`);
    return 1;
  }
  return code;
}
