// Pure parts of the rollout benchmark (bench/rollout.ts): reading the poller's
// log, Docker's nanosecond timestamps and a container's health log, and
// putting the requests of one rollout into numbers. No I/O here, so the
// arithmetic the report rests on can be checked in test/bench/.

/** One GET of the poller: its first try, and the retry when the first try failed. */
export interface PolledRequest {
  /** Realtime ms of the first try's start and end (the poller reads /proc/uptime, 10 ms steps). */
  startMs: number;
  endMs: number;
  ok: boolean;
  /** The body's first words when it succeeded, e.g. `web v2`. */
  body: string | null;
  retry: { startMs: number; endMs: number; ok: boolean; body: string | null } | null;
}

/**
 * The poller's shell loop (see POLLER_LOOP in rollout.ts) prints one line per try:
 *   `<start> <end> ok web v1 on 3f2a…`   `<start> <end> FAIL`
 *   `<start> <end> RETRY ok web v2 on …` `<start> <end> RETRY FAIL`
 * with start and end as seconds since boot (/proc/uptime). `uptimeOffsetMs`
 * is realtime ms − uptime ms, measured by the bench on the same kernel.
 * Lines that are none of these (a torn last line) are skipped.
 */
export function parsePollerLog(text: string, uptimeOffsetMs: number): PolledRequest[] {
  const out: PolledRequest[] = [];
  const at = (s: string) => Number(s) * 1000 + uptimeOffsetMs;
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) (\d+\.\d+) (RETRY )?(ok|FAIL)(?: (.*))?$/.exec(line.trim());
    if (!m) continue;
    const ok = m[4] === 'ok';
    const body = ok ? (m[5] ?? '').split(' ').slice(0, 2).join(' ') : null;
    const attempt = { startMs: at(m[1]!), endMs: at(m[2]!), ok, body };
    if (m[3]) {
      const last = out[out.length - 1];
      // A retry belongs to the failed first try just before it; one without is a torn log start.
      if (last && !last.ok && !last.retry) last.retry = attempt;
    } else {
      out.push({ ...attempt, retry: null });
    }
  }
  return out;
}

export interface Window {
  fromMs: number;
  toMs: number;
}

export interface RequestCounts {
  /** First tries that started inside the rollout. */
  total: number;
  /** First tries that failed: what a client without retry sees. */
  failedBare: number;
  /** Of those, how many were in flight during the old container's network disconnect. */
  failedBareInDisconnect: number;
  /** Requests whose retry failed too: what a client that retries once sees. */
  failedWithOneRetry: number;
  /** Successful answers by body (`web v1` → count), first try or retry. */
  answers: Record<string, number>;
  /** Each failed first try: when it started relative to the disconnect's start (ms; null without one), how long it took, whether the retry answered. */
  failures: { sinceDisconnectMs: number | null; durationMs: number; retryOk: boolean }[];
}

const overlaps = (a: Window, b: Window) => a.fromMs <= b.toMs && b.fromMs <= a.toMs;

/**
 * Counts the requests whose first try started within `rollout`. A failed
 * try counts as "in the disconnect window" when its own span overlaps
 * `disconnect` widened by `slackMs` (the 10 ms resolution of /proc/uptime).
 */
export function countRequests(requests: PolledRequest[], rollout: Window, disconnect: Window | null, slackMs = 10): RequestCounts {
  const counts: RequestCounts = { total: 0, failedBare: 0, failedBareInDisconnect: 0, failedWithOneRetry: 0, answers: {}, failures: [] };
  const wide = disconnect ? { fromMs: disconnect.fromMs - slackMs, toMs: disconnect.toMs + slackMs } : null;
  const answered = (body: string | null) => {
    if (body !== null) counts.answers[body] = (counts.answers[body] ?? 0) + 1;
  };
  for (const r of requests) {
    if (r.startMs < rollout.fromMs || r.startMs > rollout.toMs) continue;
    counts.total++;
    if (r.ok) {
      answered(r.body);
      continue;
    }
    counts.failedBare++;
    counts.failures.push({ sinceDisconnectMs: disconnect ? r.startMs - disconnect.fromMs : null, durationMs: r.endMs - r.startMs, retryOk: r.retry?.ok ?? false });
    if (wide && overlaps({ fromMs: r.startMs, toMs: r.endMs }, wide)) counts.failedBareInDisconnect++;
    if (r.retry?.ok) answered(r.retry.body);
    else counts.failedWithOneRetry++;
  }
  return counts;
}

/**
 * Docker's RFC 3339 timestamps carry nanoseconds (`2026-11-23T10:36:46.123456789Z`),
 * which Date.parse would cut to ms or reject; returns realtime ms with the fraction kept.
 */
export function dockerTimeMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) throw new Error(`not a Docker timestamp: ${s}`);
  return Date.parse(`${m[1]}${m[3]}`) + (m[2] ? Number(`0${m[2]}`) * 1000 : 0);
}

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
}

export interface TimeToHealthy {
  /** From State.StartedAt to the End of the first successful probe, ms; null when none is in the log. */
  ms: number | null;
  /**
   * Docker keeps only the last 5 probes. When the earliest kept probe started
   * more than one interval (+ its run time) after the container did, earlier
   * probes were dropped and the first success may be among them: then `ms`
   * is an upper bound and `complete` is false.
   */
  complete: boolean;
}

export function timeToHealthy(startedAt: string, log: HealthLogEntry[], intervalMs: number): TimeToHealthy {
  const started = dockerTimeMs(startedAt);
  const sorted = [...log].sort((a, b) => dockerTimeMs(a.Start) - dockerTimeMs(b.Start));
  const first = sorted[0];
  const complete = first !== undefined && dockerTimeMs(first.Start) - started < 1.5 * intervalMs;
  const ok = sorted.find((e) => e.ExitCode === 0);
  return { ms: ok ? dockerTimeMs(ok.End) - started : null, complete };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
