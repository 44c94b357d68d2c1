import { isScalar, Scalar } from 'yaml';
import { DEFAULT_SETTINGS, type BerthSettings, type ForgeSpec, type NotifierSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { parseCircuitBreaker } from '../rollout/circuit-breaker.js';
import { normalizeHosts } from './hosts.js';
import type { Validators } from './schema.js';
import { schemaDiagnostics } from './schema.js';
import type { YamlSource } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `berth.yaml` (already interpolated) → settings with defaults filled in. */
export function normalizeSettings(
  source: YamlSource | null,
  validators: Validators,
  stackNames: string[],
  out: Diagnostic[],
): BerthSettings {
  const d = DEFAULT_SETTINGS;
  if (!source) return structuredClone(d);
  const v = source.value === null || source.value === undefined ? {} : source.value;
  const errs = schemaDiagnostics(validators.berthYaml, source, v, [], 'berth.yaml');
  out.push(...errs);
  if (errs.length > 0 || !isObj(v)) return structuredClone(d);

  const sec = (k: string): Obj => (isObj(v[k]) ? (v[k] as Obj) : {});
  const policy = sec('policy');
  const rollout = sec('rollout');
  const images = sec('images');
  const traefik = isObj(v.traefik) ? v.traefik : null;
  const stacks: BerthSettings['stacks'] = {};
  for (const [name, o] of Object.entries(sec('stacks'))) {
    if (!stackNames.includes(name)) {
      out.push(source.diag('unknown-stack', ['stacks', name], `berth.yaml configures stack "${name}", which is not in stacks/`, { key: true, severity: 'warning' }));
    }
    stacks[name] = { ...(o as BerthSettings['stacks'][string]) };
  }
  const notify: NotifierSpec[] = Array.isArray(v.notify)
    ? (v.notify as Obj[]).map((n) => ({
        type: n.type as NotifierSpec['type'],
        url: String(n.url),
        name: typeof n.name === 'string' ? n.name : null,
        secret: typeof n.secret === 'string' ? n.secret : null,
      }))
    : [];
  notify.forEach((n, i) => {
    // The URL is a secret (it carries the token), so say which entry, never what it holds.
    if (n.url.trim() === '') {
      out.push(source.diag('notify-url-empty', ['notify', i, 'url'], `notifier ${i + 1} (${n.type}) has an empty url after interpolation; it will be skipped`, { severity: 'warning' }));
    } else if (!/^https?:\/\//.test(n.url)) {
      out.push(source.diag('notify-url', ['notify', i, 'url'], `notifier ${i + 1} (${n.type}) url must start with http:// or https://`));
    }
  });
  if (traefik) out.push(...traefikDiagnostics(source, traefik));
  const forge = isObj(v.forge) ? forgeSettings(source, v.forge, out) : null;
  const hosts = normalizeHosts(source, v.hosts, stackNames, out);
  return {
    policy: {
      selfHeal: (policy.selfHeal as boolean | undefined) ?? d.policy.selfHeal,
      prune: (policy.prune as boolean | undefined) ?? d.policy.prune,
    },
    rollout: {
      bakeSeconds: (rollout.bakeSeconds as number | undefined) ?? d.rollout.bakeSeconds,
      healthTimeoutSeconds: (rollout.healthTimeoutSeconds as number | undefined) ?? d.rollout.healthTimeoutSeconds,
      drainSeconds: (rollout.drainSeconds as number | undefined) ?? d.rollout.drainSeconds,
    },
    images: {
      prune: (images.prune as boolean | undefined) ?? d.images.prune,
      keepRevisions: (images.keepRevisions as number | undefined) ?? d.images.keepRevisions,
      pullStallSeconds: (images.pullStallSeconds as number | undefined) ?? d.images.pullStallSeconds,
      pullTimeoutSeconds: (images.pullTimeoutSeconds as number | undefined) ?? d.images.pullTimeoutSeconds,
    },
    stacks,
    traefik: traefik
      ? {
          api: String(traefik.api),
          circuitBreaker: typeof traefik.circuitBreaker === 'string' ? traefik.circuitBreaker : 'ResponseCodeRatio(500, 600, 0, 600) > 0.25',
        }
      : null,
    notify,
    forge,
    prune: { volumes: sec('prune').volumes === true },
    lint: { errors: Array.isArray(sec('lint').errors) ? (sec('lint').errors as string[]) : [] },
    hosts,
  };
}

const FORGE_API: Record<string, string | null> = { github: 'https://api.github.com', gitlab: 'https://gitlab.com/api/v4', gitea: null };

/** `forge:`; the token is a secret, so messages name the key, never its value. */
function forgeSettings(source: YamlSource, f: Obj, out: Diagnostic[]): ForgeSpec | null {
  const type = f.type as ForgeSpec['type'];
  const url = typeof f.url === 'string' ? f.url.trim().replace(/\/+$/, '') : FORGE_API[type];
  if (!url) {
    out.push(source.diag('forge-url', ['forge'], `forge type ${type} needs url: (the API base, e.g. https://gitea.example.org/api/v1)`));
    return null;
  }
  if (!/^https?:\/\/[^/]/i.test(url)) {
    out.push(source.diag('forge-url', ['forge', 'url'], 'must be an http:// or https:// URL (the forge API base)'));
    return null;
  }
  const token = String(f.token);
  if (token.trim() === '') {
    out.push(source.diag('forge-token-empty', ['forge', 'token'], 'forge token is empty after interpolation (set it from the environment, e.g. token: ${GITHUB_TOKEN}); previews and statuses are off', { severity: 'warning' }));
    return null;
  }
  return { type, url, repo: String(f.repo), token };
}

/**
 * `traefik.api` must be an HTTP URL (it may carry a password as userinfo, so
 * the message never quotes it), and `traefik.circuitBreaker` must be an
 * expression Traefik's breaker language accepts, or every rollout would fail
 * at its bake instead of at validation.
 */
function traefikDiagnostics(source: YamlSource, traefik: Obj): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (typeof traefik.api === 'string' && !/^https?:\/\/[^/]/i.test(traefik.api.trim())) {
    out.push(source.diag('traefik-api-url', ['traefik', 'api'], 'must be an http:// or https:// URL (the address of Traefik\'s API entrypoint)'));
  }
  const cb = traefik.circuitBreaker;
  if (typeof cb === 'string') {
    const p = parseCircuitBreaker(cb);
    if (!p.ok) {
      const d = source.diag('circuit-breaker', ['traefik', 'circuitBreaker'], `invalid circuit-breaker expression: ${p.message} (column ${p.column} of the expression)`);
      const shift = columnShift(source, cb);
      out.push(shift === null ? d : { ...d, col: d.col + shift + p.column - 1 });
    }
  }
  return out;
}

/**
 * Where the expression's first character sits relative to the YAML value's
 * position, when the value is written on one line exactly as parsed (plain or
 * quoted without escapes, not changed by interpolation), so that the error
 * points at the offending character itself. null: point at the value.
 */
function columnShift(source: YamlSource, value: string): number | null {
  const node = source.doc().getIn(['traefik', 'circuitBreaker'], true);
  if (!isScalar(node) || node.value !== value || !node.range || value.includes('\n')) return null;
  const written = node.range[1] - node.range[0];
  if (node.type === Scalar.PLAIN && written === value.length) return 0;
  if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && written === value.length + 2) return 1;
  return null;
}
