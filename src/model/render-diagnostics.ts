import { formatLocation, type Diagnostic } from './errors.js';

/** `FILE:LINE:COL: error: key.path: message [code]` — the form editors and CI annotate. */
export function renderDiagnostic(d: Diagnostic): string {
  const path = d.path ? `${d.path}: ` : '';
  return `${formatLocation(d)}: ${d.severity}: ${path}${d.message} [${d.code}]`;
}

export function countLine(ds: Diagnostic[]): string {
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.length - errors;
  return `${errors} ${errors === 1 ? 'error' : 'errors'}, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`;
}
