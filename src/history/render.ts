import type { HistoryEntry } from '../ports/state.js';

/** `berth history` and `berth history show` as text for people (newest first). */

const short = (rev: string | null) => (rev ? rev.slice(0, 12) : '(working tree)');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function opsLine(e: HistoryEntry): string {
  const s = e.summary;
  const parts = [
    s.create ? `${s.create} create` : '',
    s.recreate ? `${s.recreate} recreate` : '',
    s.update ? `${s.update} update` : '',
    s.remove ? `${s.remove} remove` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no ops';
}

function resultWord(e: HistoryEntry): string {
  const rb = e.rollbacks ?? [];
  if (rb.length > 0) return `${e.result}, rolled back ${rb.map((r) => `${r.object} (${r.gate})`).join(', ')}`;
  return e.result;
}

/** `entries` newest first. */
export function renderHistoryText(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'No deploys recorded on this host yet.';
  const rows = entries.map((e) => [short(e.revision), when(e.at), resultWord(e), opsLine(e), secs(e.durationMs), e.author ?? '', e.subject ?? '']);
  const head = ['REVISION', 'TIME', 'RESULT', 'OPS', 'DURATION', 'AUTHOR', 'SUBJECT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const SIGN: Record<string, string> = { create: '+', recreate: '~', update: '~', start: '~', remove: '-' };
const WAVE_TITLE: Record<string, string> = { networks: 'Wave 1 · networks', volumes: 'Wave 2 · volumes', databases: 'Wave 3 · databases', apps: 'Wave 4 · apps' };

export function renderHistoryShow(e: HistoryEntry): string {
  const out = [
    `Revision: ${e.revision ?? '(working tree)'}${e.subject ? ` — ${e.subject}` : ''}`,
    ...(e.author ? [`Author:   ${e.author}`] : []),
    `Applied:  ${when(e.at)} in ${secs(e.durationMs)}`,
    `Result:   ${resultWord(e)}`,
    `Plan:     ${opsLine(e)}`,
  ];
  if (!e.ops) {
    out.push('', `(recorded by an older berth: the ops of this apply were not kept; failed: ${e.failed.join(', ') || 'none'})`);
    return out.join('\n');
  }
  let wave = '';
  const width = Math.max(0, ...e.ops.map((o) => o.object.length));
  for (const op of e.ops) {
    if (op.wave !== wave) {
      wave = op.wave;
      out.push('', WAVE_TITLE[wave] ?? wave);
    }
    const outcome =
      op.rollout && op.rollout.result !== 'succeeded'
        ? `${op.rollout.result === 'rolled_back' ? 'rolled back' : 'failed, NOT rolled back'} (${op.rollout.gate ?? '?'})`
        : op.status === 'ok'
          ? `ok (${secs(op.durationMs)})`
          : op.status;
    out.push(`  ${SIGN[op.action] ?? '?'} ${op.object.padEnd(width)}  ${op.action}${op.rollout ? ` (${op.rollout.strategy})` : ''}: ${op.reasons.join('; ')}  → ${outcome}`);
    if (op.error && op.status !== 'ok') out.push(`      ${op.error}`);
  }
  return out.join('\n');
}
