/** The dashboard style: no web fonts, no external URL (works air-gapped). */
export const APP_CSS = String.raw`:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1c2430; --card: #fff; --muted: #6a7482; --line: #dde1e6;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --card: #161b22; --muted: #8d96a0; --line: #30363d;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --info: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-start; justify-content: space-between; padding: .8rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 1.1rem; margin: 0; }
#summary .line { margin: .1rem 0; }
main { padding: .8rem; max-width: 1200px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .9rem; margin: 0 0 .8rem; }
.card h2 { font-size: 1rem; margin: .2rem 0 .5rem; }
.muted { color: var(--muted); }
.bad { color: var(--bad); }
code { font: 13px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-top: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; color: var(--muted); font-weight: 600; border-top: 0; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; white-space: nowrap; }
.badge.ok, .badge.running, .badge.healthy, .badge.in-sync, .badge.converged { color: var(--ok); }
.badge.warn, .badge.starting, .badge.changes-pending, .badge.created, .badge.restarting, .badge.paused, .badge.in-sync-, .badge.held { color: var(--warn); }
.badge.failed, .badge.unhealthy, .badge.exited, .badge.dead, .badge.missing { color: var(--bad); }
ul { margin: .2rem 0; padding-left: 1.2rem; }
ul.events { list-style: none; padding: 0; }
details summary { cursor: pointer; color: var(--muted); margin-top: .4rem; }
/* Phones: each table row becomes a small card, each cell labelled. */
@media (max-width: 640px) {
  thead { display: none; }
  table, tbody, tr, td { display: block; width: 100%; }
  tr { border-top: 1px solid var(--line); padding: .3rem 0; }
  td { border: 0; padding: .1rem 0; display: flex; gap: .6rem; }
  td::before { content: attr(data-label); flex: 0 0 6.5rem; color: var(--muted); font-size: .8rem; }
}
`;
