import { interpolate, type Lookup } from './interpolate.js';

/**
 * The `.env` / `env_file` format as `docker compose` reads it:
 *
 *   KEY=value            unquoted: trimmed, ` #` starts a comment, ${VAR} interpolated
 *   export KEY=value     `export ` is ignored
 *   KEY="a\nb ${X}"      double quotes: escapes and interpolation, may span lines
 *   KEY='literal $X'     single quotes: taken literally, may span lines
 *   KEY                  takes KEY from the environment when set
 *   # comment, blank lines
 *
 * Interpolation sees keys defined earlier in the same file, then `lookup`.
 * Errors carry a line number and never a value.
 */
export interface DotenvEntry {
  key: string;
  value: string;
  line: number;
}

export interface DotenvError {
  line: number;
  col: number;
  message: string;
}

export interface DotenvResult {
  entries: DotenvEntry[];
  values: Record<string, string>;
  errors: DotenvError[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*/;

export function parseDotenv(text: string, lookup: Lookup = () => undefined, interpolateValues = true): DotenvResult {
  const entries: DotenvEntry[] = [];
  const values: Record<string, string> = {};
  const errors: DotenvError[] = [];
  const local: Lookup = (name) => (name in values ? values[name] : lookup(name));

  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;

  const skipLine = () => {
    const nl = src.indexOf('\n', i);
    i = nl < 0 ? src.length : nl + 1;
    line++;
  };

  while (i < src.length) {
    // Leading whitespace.
    while (i < src.length && (src[i] === ' ' || src[i] === '\t')) i++;
    if (src[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (i >= src.length) break;
    if (src[i] === '#') {
      skipLine();
      continue;
    }
    const lineStart = src.lastIndexOf('\n', i - 1) + 1;
    if (src.startsWith('export ', i)) i += 'export '.length;
    while (src[i] === ' ') i++;
    const m = KEY.exec(src.slice(i));
    if (!m) {
      errors.push({ line, col: i - lineStart + 1, message: 'expected a variable name (letters, digits, _ . -) at the start of the line' });
      skipLine();
      continue;
    }
    const key = m[0];
    i += key.length;
    while (src[i] === ' ' || src[i] === '\t') i++;
    const entryLine = line;
    if (i >= src.length || src[i] === '\n' || src[i] === '#') {
      // Bare KEY: inherit from the environment, as Compose does.
      const inherited = lookup(key);
      if (inherited !== undefined) {
        values[key] = inherited;
        entries.push({ key, value: inherited, line: entryLine });
      }
      skipLine();
      continue;
    }
    if (src[i] !== '=' && src[i] !== ':') {
      errors.push({ line, col: i - lineStart + 1, message: `expected "=" after ${key}` });
      skipLine();
      continue;
    }
    i++;
    while (src[i] === ' ' || src[i] === '\t') i++;

    let value: string;
    const q = src[i];
    if (q === '"' || q === "'") {
      const open = i;
      i++;
      let raw = '';
      let closed = false;
      while (i < src.length) {
        const c = src[i]!;
        if (c === '\\' && q === '"' && i + 1 < src.length) {
          raw += c + src[i + 1];
          if (src[i + 1] === '\n') line++;
          i += 2;
          continue;
        }
        if (c === q) {
          closed = true;
          i++;
          break;
        }
        if (c === '\n') line++;
        raw += c;
        i++;
      }
      if (!closed) {
        errors.push({ line: entryLine, col: open - lineStart + 1, message: `unterminated quoted value for ${key}` });
        break;
      }
      value = q === '"' ? unescapeDouble(raw) : raw;
      if (q === '"' && interpolateValues) value = interp(value, key, entryLine);
      // Rest of the line may hold only a comment.
      while (src[i] === ' ' || src[i] === '\t') i++;
      if (i < src.length && src[i] !== '\n' && src[i] !== '#') {
        errors.push({ line, col: i - lineStart + 1, message: `unexpected characters after the quoted value of ${key}` });
      }
      skipLineIfNotAtNewlineEnd();
    } else {
      const nl = src.indexOf('\n', i);
      const end = nl < 0 ? src.length : nl;
      let raw = src.slice(i, end);
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash);
      value = raw.trim();
      if (interpolateValues) value = interp(value, key, entryLine);
      i = end;
      skipLineIfNotAtNewlineEnd();
    }
    values[key] = value;
    entries.push({ key, value, line: entryLine });
  }
  return { entries, values, errors };

  function skipLineIfNotAtNewlineEnd() {
    const nl = src.indexOf('\n', i);
    i = nl < 0 ? src.length : nl + 1;
    line++;
  }

  function interp(v: string, key: string, at: number): string {
    const r = interpolate(v, local);
    for (const e of r.errors) errors.push({ line: at, col: 1, message: `${key}: ${e}` });
    return r.value;
  }
}

function unescapeDouble(raw: string): string {
  return raw.replace(/\\(.)/gs, (_, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '\n':
        return '';
      default:
        // \\ \" \$ and anything else: the character itself. `\$` keeps the `$`
        // literal by doubling it for the interpolation step that follows.
        return c === '$' ? '$$' : c;
    }
  });
}
