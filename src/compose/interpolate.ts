/**
 * Compose variable interpolation, with the Compose Specification's rules:
 *
 *   $$            a literal $
 *   $VAR ${VAR}   the value, or "" (with a warning) when unset
 *   ${VAR:-d}     d when VAR is unset or empty      ${VAR-d}  d when unset
 *   ${VAR:?msg}   error when VAR is unset or empty  ${VAR?msg} error when unset
 *   ${VAR:+alt}   alt when VAR is set and non-empty ${VAR+alt} alt when set
 *
 * Defaults and alternatives may themselves contain substitutions. A `$` that
 * starts none of these is an error, as in `docker compose` (write `$$`).
 *
 * Messages name variables, never their values: values may be secrets.
 */

export type Lookup = (name: string) => string | undefined;

export interface InterpolationResult {
  value: string;
  errors: string[];
  /** Variables that were unset and defaulted to a blank string. */
  unset: string[];
  /** Whether the input contained any substitution (for type casting afterwards). */
  substituted: boolean;
}

const NAME = /^[_A-Za-z][_A-Za-z0-9]*/;

export function interpolate(input: string, lookup: Lookup): InterpolationResult {
  const state: InterpolationResult = { value: '', errors: [], unset: [], substituted: false };
  const p = new Parser(input, lookup, state);
  state.value = p.parseUntil(null);
  // Syntax errors stand even inside a default that was not used.
  state.errors.unshift(...p.syntaxErrors);
  return state;
}

class Parser {
  pos = 0;
  readonly syntaxErrors: string[] = [];
  constructor(
    private readonly s: string,
    private readonly lookup: Lookup,
    private readonly out: InterpolationResult,
  ) {}

  /** Parse text up to (not including) an unmatched `}` when `stopAtBrace`, or to the end. */
  parseUntil(stop: '}' | null): string {
    let result = '';
    while (this.pos < this.s.length) {
      const c = this.s[this.pos]!;
      if (stop && c === '}') return result;
      if (c !== '$') {
        result += c;
        this.pos++;
        continue;
      }
      result += this.dollar();
    }
    if (stop) this.syntax('unterminated "${": missing "}"');
    return result;
  }

  private dollar(): string {
    const next = this.s[this.pos + 1];
    if (next === '$') {
      this.pos += 2;
      return '$';
    }
    if (next === '{') {
      this.pos += 2;
      return this.braced();
    }
    const m = NAME.exec(this.s.slice(this.pos + 1));
    if (m) {
      this.pos += 1 + m[0].length;
      this.out.substituted = true;
      return this.valueOf(m[0]);
    }
    this.syntax(`invalid interpolation format: a "$" must start \${VAR} or $VAR; write "$$" for a literal "$"`);
    this.pos += 1;
    return '$';
  }

  private braced(): string {
    this.out.substituted = true;
    const m = NAME.exec(this.s.slice(this.pos));
    if (!m) {
      this.syntax(`invalid interpolation format: "\${" must be followed by a variable name`);
      this.skipToBrace();
      return '';
    }
    const name = m[0];
    this.pos += name.length;
    const rest = this.s.slice(this.pos);
    if (rest.startsWith('}')) {
      this.pos++;
      return this.valueOf(name);
    }
    const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
    if (!op) {
      this.syntax(`invalid interpolation format for variable ${name}: expected "}", ":-", "-", ":?", "?", ":+" or "+"`);
      this.skipToBrace();
      return '';
    }
    this.pos += op.length;
    // The operand is itself interpolated, but only evaluated when it is used,
    // so `${SET:-${UNSET:?x}}` does not fail when SET has a value.
    const start = this.pos;
    const errorsBefore = this.out.errors.length;
    const unsetBefore = this.out.unset.length;
    const operand = this.parseUntil('}');
    this.pos++; // the closing brace
    const raw = this.lookup(name);
    const set = raw !== undefined;
    const nonEmpty = set && raw !== '';
    const discardOperand = () => {
      this.out.errors.length = errorsBefore;
      this.out.unset.length = unsetBefore;
    };
    switch (op) {
      case ':-':
        if (nonEmpty) {
          discardOperand();
          return raw;
        }
        return operand;
      case '-':
        if (set) {
          discardOperand();
          return raw;
        }
        return operand;
      case ':?':
      case '?': {
        const ok = op === ':?' ? nonEmpty : set;
        if (ok) {
          discardOperand();
          return raw!;
        }
        const what = op === ':?' ? 'is missing a value' : 'is not set';
        const msg = this.s.slice(start, this.pos - 1) === '' ? '' : `: ${operand}`;
        this.fail(`required variable ${name} ${what}${msg}`);
        return '';
      }
      case ':+':
        if (nonEmpty) return operand;
        discardOperand();
        return '';
      default: // '+'
        if (set) return operand;
        discardOperand();
        return '';
    }
  }

  private valueOf(name: string): string {
    const v = this.lookup(name);
    if (v === undefined) {
      if (!this.out.unset.includes(name)) this.out.unset.push(name);
      return '';
    }
    return v;
  }

  private skipToBrace(): void {
    const i = this.s.indexOf('}', this.pos);
    this.pos = i < 0 ? this.s.length : i + 1;
  }

  private fail(msg: string): void {
    this.out.errors.push(msg);
  }

  private syntax(msg: string): void {
    if (!this.syntaxErrors.includes(msg)) this.syntaxErrors.push(msg);
  }
}
