/**
 * Errors are values: a code a script can match, a location a person can jump
 * to, and a message that says what to change. Collected, never thrown, so that
 * `berth validate` can report every problem of every stack at once.
 */
export interface Location {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  /** 1-based. 0 when the problem concerns the file as a whole. */
  line: number;
  /** 1-based. 0 when the problem concerns the file as a whole. */
  col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic extends Location {
  severity: Severity;
  /** Stable machine-readable id, e.g. `schema`, `unsupported-key`, `depends-on-cycle`. */
  code: string;
  /** Dotted key path inside the file (`services.web.ports[0]`), empty for the document. */
  path: string;
  message: string;
}

export function formatLocation(d: Location): string {
  return d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
}

/** Stable order: by file, then position, then message — so output is deterministic. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      cmp(a.file, b.file) || a.line - b.line || a.col - b.col || cmp(a.path, b.path) || cmp(a.message, b.message),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Key path from JSON-pointer-ish segments: ['services','web','ports',0] → services.web.ports[0] */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
