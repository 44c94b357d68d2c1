/**
 * berth's own JSON schemas: the `x-berth` service extension and `berth.yaml`.
 * Kept as data so `validate` reports their violations the same way as the
 * Compose Specification's.
 */
import { LINT_RULE_IDS } from '../lint/rule-ids.js';

/**
 * berth waits these out with timers, and a Node timer longer than 2^31-1 ms
 * (about 24.8 days) fires at once: `bakeSeconds: 1e12` would mean no bake at
 * all. (`.inf` passes ajv's integer check, so the maximum also stops that.)
 */
export const MAX_TIMER_SECONDS = 2_147_483;
const seconds = { type: 'integer', minimum: 0, maximum: MAX_TIMER_SECONDS } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;
/** Only known rule ids: a typo must not silently leave a rule on, or an intended error a warning. */
const ruleIds = { type: 'array', items: { enum: LINT_RULE_IDS } } as const;

export const X_BERTH_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tier: { enum: ['database', 'app'] },
    rollout: { enum: ['recreate', 'start-first'] },
    minReadySeconds: seconds,
    selfHeal: { type: 'boolean' },
    backup: {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      properties: {
        command: { oneOf: [{ type: 'string', minLength: 1 }, { ...stringList, minItems: 1 }] },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: MAX_TIMER_SECONDS },
      },
    },
    lint: {
      type: 'object',
      additionalProperties: false,
      properties: { ignore: ruleIds },
    },
    // Which of semver/pattern is set, and whether its range or expression parses, is checked in src/images/policy-diagnostics.ts.
    imagePolicy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        semver: { type: 'string', minLength: 1 },
        pattern: { type: 'string', minLength: 1 },
        order: { enum: ['alphabetical', 'numerical'] },
        commit: { enum: ['pull-request', 'direct'] },
      },
    },
  },
} as const;

const notifier = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'url'],
  properties: {
    type: { enum: ['slack', 'discord', 'teams', 'webhook'] },
    url: { type: 'string' },
    name: { type: 'string' },
    secret: { type: 'string' },
  },
} as const;

export const BERTH_YAML_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: { selfHeal: { type: 'boolean' }, prune: { type: 'boolean' } },
    },
    rollout: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bakeSeconds: seconds,
        healthTimeoutSeconds: { type: 'integer', minimum: 1, maximum: MAX_TIMER_SECONDS },
        drainSeconds: seconds,
      },
    },
    images: {
      type: 'object',
      additionalProperties: false,
      properties: { prune: { type: 'boolean' }, keepRevisions: { type: 'integer', minimum: 1 }, pullStallSeconds: { type: 'integer', minimum: 0 }, pullTimeoutSeconds: { type: 'integer', minimum: 0 } },
    },
    prune: {
      type: 'object',
      additionalProperties: false,
      properties: { volumes: { type: 'boolean' } },
    },
    stacks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { selfHeal: { type: 'boolean' }, prune: { type: 'boolean' } },
      },
    },
    traefik: {
      type: 'object',
      additionalProperties: false,
      required: ['api'],
      properties: { api: { type: 'string', minLength: 1 }, circuitBreaker: { type: 'string' } },
    },
    notify: { type: 'array', items: notifier },
    forge: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'repo', 'token'],
      properties: {
        type: { enum: ['github', 'gitea', 'gitlab'] },
        url: { type: 'string', minLength: 1 },
        repo: { type: 'string', minLength: 1 },
        token: { type: 'string' },
      },
    },
    hosts: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['docker', 'stacks'],
        properties: {
          docker: { type: 'string', pattern: '^(unix|tcp|ssh)://.+' },
          tls: {
            type: 'object',
            additionalProperties: false,
            required: ['ca', 'cert', 'key'],
            properties: { ca: { type: 'string', minLength: 1 }, cert: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 } },
          },
          mode: { enum: ['engine', 'swarm'] },
          stacks: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        },
      },
    },
    lint: {
      type: 'object',
      additionalProperties: false,
      properties: { errors: ruleIds },
    },
  },
} as const;
