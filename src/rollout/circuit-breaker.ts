/**
 * Traefik's circuit-breaker expression language (the `expression` of its
 * CircuitBreaker middleware), parsed and evaluated by berth so that the bake
 * period of a rollout judges the new container by the same rule the user
 * already wrote for Traefik (`traefik.circuitBreaker` in berth.yaml).
 *
 * The grammar is the subset of Go expressions Traefik (vulcand/oxy) accepts:
 *
 *   expr       := and ( '||' and )*          `&&` binds tighter than `||`, as in Go
 *   and        := primary ( '&&' primary )*
 *   primary    := '(' expr ')' | comparison
 *   comparison := metric op number           the metric is always on the left
 *   metric     := ResponseCodeRatio(from, to, dividedByFrom, dividedByTo)
 *               | NetworkErrorRatio()
 *               | LatencyAtQuantileMS(quantile)
 *   op         := '>' | '<' | '>=' | '<=' | '==' | '!='
 *
 * Pure: no I/O. The caller builds a TrafficWindow from whatever it observed.
 */

export type CbMetric =
  | { kind: 'ResponseCodeRatio'; from: number; to: number; dividedByFrom: number; dividedByTo: number }
  | { kind: 'NetworkErrorRatio' }
  | { kind: 'LatencyAtQuantileMS'; quantile: number };

export type CbOp = '>' | '<' | '>=' | '<=' | '==' | '!=';

export type CbExpr =
  | { type: 'compare'; metric: CbMetric; op: CbOp; value: number }
  | { type: 'and' | 'or'; left: CbExpr; right: CbExpr };

export type CbParseResult = { ok: true; expr: CbExpr } | { ok: false; message: string; column: number };

/**
 * What was observed during a window (the bake period so far): responses by
 * status code, and the cumulative latency histogram of the same requests.
 */
export interface TrafficWindow {
  /** HTTP status code → number of responses with it. */
  responses: Readonly<Record<number, number>>;
  /**
   * Cumulative histogram, Prometheus style: for each upper bound (seconds,
   * `Infinity` for +Inf) the number of requests that took at most that long.
   * Empty when no latency was observed.
   */
  latency: readonly { leSeconds: number; count: number }[];
}

/**
 * Traefik's NetworkErrorRatio counts requests whose upstream connection
 * failed. Traefik answers those itself: 502 Bad Gateway when the connection
 * is refused or reset, 504 Gateway Timeout when the upstream does not answer
 * in time. Its Prometheus counters only carry the status code, so berth counts
 * exactly these two codes as network errors.
 */
export const NETWORK_ERROR_CODES: readonly number[] = [502, 504];

// ---------------------------------------------------------------- parsing

type TokKind = 'ident' | 'number' | '(' | ')' | ',' | 'op' | '&&' | '||' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  /** 1-based column of the token's first character. */
  column: number;
}

class CbSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const column = i + 1;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const two = rest.slice(0, 2);
    if (two === '&&' || two === '||') {
      out.push({ kind: two, text: two, column });
      i += 2;
    } else if (two === '>=' || two === '<=' || two === '==' || two === '!=') {
      out.push({ kind: 'op', text: two, column });
      i += 2;
    } else if (c === '>' || c === '<') {
      out.push({ kind: 'op', text: c, column });
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: c, text: c, column });
      i++;
    } else if (NUMBER.test(rest)) {
      const text = NUMBER.exec(rest)![0];
      out.push({ kind: 'number', text, column });
      i += text.length;
    } else if (IDENT.test(rest)) {
      const text = IDENT.exec(rest)![0];
      out.push({ kind: 'ident', text, column });
      i += text.length;
    } else if (c === '&' || c === '|') {
      throw new CbSyntaxError(`"${c}" is not an operator; use "${c}${c}"`, column);
    } else if (c === '=') {
      throw new CbSyntaxError('"=" is not an operator; use "==" to compare', column);
    } else {
      throw new CbSyntaxError(`unexpected character ${JSON.stringify(c)}`, column);
    }
  }
  out.push({ kind: 'eof', text: '', column: src.length + 1 });
  return out;
}

const METRICS = ['ResponseCodeRatio', 'NetworkErrorRatio', 'LatencyAtQuantileMS'] as const;
const ARITY: Record<(typeof METRICS)[number], number> = { ResponseCodeRatio: 4, NetworkErrorRatio: 0, LatencyAtQuantileMS: 1 };

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): CbExpr {
    if (this.peek().kind === 'eof') throw new CbSyntaxError('the expression is empty', 1);
    const e = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw new CbSyntaxError(`unexpected ${describe(t)}; expected "&&", "||" or the end`, t.column);
    return e;
  }

  private peek(): Token {
    return this.toks[this.pos]!;
  }

  private next(): Token {
    return this.toks[this.pos++]!;
  }

  private expect(kind: TokKind, what: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw new CbSyntaxError(`expected ${what}, found ${describe(t)}`, t.column);
    return t;
  }

  private or(): CbExpr {
    let left = this.and();
    while (this.peek().kind === '||') {
      this.next();
      left = { type: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): CbExpr {
    let left = this.primary();
    while (this.peek().kind === '&&') {
      this.next();
      left = { type: 'and', left, right: this.primary() };
    }
    return left;
  }

  private primary(): CbExpr {
    if (this.peek().kind === '(') {
      this.next();
      const inner = this.or();
      this.expect(')', '")"');
      return inner;
    }
    return this.comparison();
  }

  private comparison(): CbExpr {
    const metric = this.metric();
    const op = this.next();
    if (op.kind !== 'op') {
      throw new CbSyntaxError(`expected a comparison (>, <, >=, <=, ==, !=) after ${metricText(metric)}, found ${describe(op)}`, op.column);
    }
    const num = this.next();
    if (num.kind !== 'number') throw new CbSyntaxError(`expected a number after "${op.text}", found ${describe(num)}`, num.column);
    return { type: 'compare', metric, op: op.text as CbOp, value: Number(num.text) };
  }

  private metric(): CbMetric {
    const name = this.next();
    if (name.kind !== 'ident') {
      throw new CbSyntaxError(`expected ${METRICS.join('(…), ')}(…) or "(", found ${describe(name)}`, name.column);
    }
    const known = METRICS.find((m) => m === name.text);
    if (!known) {
      const hint = METRICS.find((m) => m.toLowerCase() === name.text.toLowerCase());
      throw new CbSyntaxError(
        hint ? `unknown function ${name.text}; did you mean ${hint}? (names are case-sensitive)` : `unknown function ${name.text}; expected one of ${METRICS.join(', ')}`,
        name.column,
      );
    }
    this.expect('(', `"(" after ${known}`);
    const args: Token[] = [];
    if (this.peek().kind !== ')') {
      for (;;) {
        args.push(this.expect('number', `a number as argument ${args.length + 1} of ${known}`));
        if (this.peek().kind !== ',') break;
        this.next();
      }
    }
    const close = this.expect(')', args.length < ARITY[known] ? '","' : '")"');
    if (args.length !== ARITY[known]) {
      const where = args[ARITY[known]] ?? close;
      throw new CbSyntaxError(`${known} takes ${ARITY[known]} argument${ARITY[known] === 1 ? '' : 's'}, got ${args.length}`, where.column);
    }
    const n = args.map((a) => Number(a.text));
    switch (known) {
      case 'NetworkErrorRatio':
        return { kind: known };
      case 'LatencyAtQuantileMS': {
        if (n[0]! > 100) throw new CbSyntaxError('the quantile is a percentage: between 0 and 100 (50.0 is the median)', args[0]!.column);
        return { kind: known, quantile: n[0]! };
      }
      case 'ResponseCodeRatio': {
        args.forEach((a, i) => {
          if (!Number.isInteger(n[i])) throw new CbSyntaxError(`status codes are integers, got ${a.text}`, a.column);
        });
        if (n[0]! >= n[1]!) throw new CbSyntaxError(`the range [${n[0]}, ${n[1]}) is empty: "from" must be below "to"`, args[0]!.column);
        if (n[2]! >= n[3]!) throw new CbSyntaxError(`the range [${n[2]}, ${n[3]}) is empty: "dividedByFrom" must be below "dividedByTo"`, args[2]!.column);
        return { kind: known, from: n[0]!, to: n[1]!, dividedByFrom: n[2]!, dividedByTo: n[3]! };
      }
    }
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the expression';
  return `"${t.text}"`;
}

export function parseCircuitBreaker(expr: string): CbParseResult {
  try {
    return { ok: true, expr: new Parser(tokenize(expr)).parse() };
  } catch (e) {
    if (e instanceof CbSyntaxError) return { ok: false, message: e.message, column: e.column };
    throw e;
  }
}

// ---------------------------------------------------------------- evaluation

interface Measured {
  value: number;
  /** Text shown after the comparison, e.g. "(4 of 10 responses)". */
  basis: string;
  /** How the value is printed. */
  shown: string;
}

export function metricText(m: CbMetric): string {
  switch (m.kind) {
    case 'ResponseCodeRatio':
      return `ResponseCodeRatio(${m.from},${m.to},${m.dividedByFrom},${m.dividedByTo})`;
    case 'NetworkErrorRatio':
      return 'NetworkErrorRatio()';
    case 'LatencyAtQuantileMS':
      return `LatencyAtQuantileMS(${m.quantile})`;
  }
}

function countIn(w: TrafficWindow, from: number, to: number): number {
  let n = 0;
  for (const [code, count] of Object.entries(w.responses)) {
    const c = Number(code);
    if (c >= from && c < to) n += count;
  }
  return n;
}

function totalOf(w: TrafficWindow): number {
  return Object.values(w.responses).reduce((a, b) => a + b, 0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function measure(m: CbMetric, w: TrafficWindow): Measured {
  switch (m.kind) {
    case 'ResponseCodeRatio': {
      const num = countIn(w, m.from, m.to);
      const den = countIn(w, m.dividedByFrom, m.dividedByTo);
      // As in Traefik: with nothing to divide by, the ratio is 0 (no evidence, no trip).
      const value = den === 0 ? 0 : num / den;
      return { value, shown: value.toFixed(2), basis: `(${num} of ${plural(den, 'response')})` };
    }
    case 'NetworkErrorRatio': {
      const total = totalOf(w);
      const errors = NETWORK_ERROR_CODES.reduce((a, c) => a + (w.responses[c] ?? 0), 0);
      const value = total === 0 ? 0 : errors / total;
      return { value, shown: value.toFixed(2), basis: `(${errors} of ${plural(total, 'response')} were ${NETWORK_ERROR_CODES.join('/')})` };
    }
    case 'LatencyAtQuantileMS': {
      const { ms, requests } = latencyAtQuantile(w.latency, m.quantile);
      // Traefik compares whole milliseconds (it converts the duration to an int).
      const value = Math.floor(ms);
      return { value, shown: `${value}ms`, basis: `(${plural(requests, 'request')})` };
    }
  }
}

/**
 * The latency below which `quantile` percent of the requests finished,
 * estimated from a cumulative histogram the way Prometheus' histogram_quantile
 * does: find the bucket holding the rank, interpolate linearly inside it; a
 * rank in the +Inf bucket gets the highest finite bound. No requests → 0.
 */
export function latencyAtQuantile(buckets: TrafficWindow['latency'], quantile: number): { ms: number; requests: number } {
  const sorted = [...buckets].sort((a, b) => a.leSeconds - b.leSeconds);
  const requests = sorted.length > 0 ? sorted[sorted.length - 1]!.count : 0;
  if (requests <= 0) return { ms: 0, requests: 0 };
  const rank = (Math.min(Math.max(quantile, 0), 100) / 100) * requests;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank && b.count > 0) {
      if (!Number.isFinite(b.leSeconds)) return { ms: prevLe * 1000, requests };
      const inBucket = b.count - prevCount;
      const frac = inBucket > 0 ? (rank - prevCount) / inBucket : 1;
      return { ms: (prevLe + (b.leSeconds - prevLe) * Math.max(0, Math.min(1, frac))) * 1000, requests };
    }
    if (Number.isFinite(b.leSeconds)) prevLe = b.leSeconds;
    prevCount = b.count;
  }
  return { ms: prevLe * 1000, requests };
}

function compare(v: number, op: CbOp, t: number): boolean {
  switch (op) {
    case '>':
      return v > t;
    case '<':
      return v < t;
    case '>=':
      return v >= t;
    case '<=':
      return v <= t;
    case '==':
      return v === t;
    case '!=':
      return v !== t;
  }
}

function evalNode(e: CbExpr, w: TrafficWindow): { value: boolean; details: string[] } {
  if (e.type === 'compare') {
    const m = measure(e.metric, w);
    const value = compare(m.value, e.op, e.value);
    const rel = value ? `${e.op} ${e.value}` : `not ${e.op} ${e.value}`;
    return { value, details: [`${metricText(e.metric)} = ${m.shown}${value ? ' ' : ', '}${rel} ${m.basis}`] };
  }
  const l = evalNode(e.left, w);
  const r = evalNode(e.right, w);
  if (e.type === 'and') {
    const value = l.value && r.value;
    // Tripped: both sides are the reason. Not tripped: the side(s) that held it back.
    return { value, details: value ? [...l.details, ...r.details] : [...(l.value ? [] : l.details), ...(r.value ? [] : r.details)] };
  }
  const value = l.value || r.value;
  return { value, details: value ? [...(l.value ? l.details : []), ...(r.value ? r.details : [])] : [...l.details, ...r.details] };
}

/**
 * Would Traefik's breaker open on this traffic? `detail` names the measured
 * values that decided it, e.g.
 * `ResponseCodeRatio(500,600,0,600) = 0.40 > 0.25 (4 of 10 responses)`.
 */
export function evaluateCircuitBreaker(expr: CbExpr, window: TrafficWindow): { tripped: boolean; detail: string } {
  const r = evalNode(expr, window);
  return { tripped: r.value, detail: r.details.join('; ') };
}
