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
      properties: { prune: { type: 'boolean' }, keepRevisions: { type: 'integer', minimum: 1 } },
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
    lint: {
      type: 'object',
      additionalProperties: false,
      properties: { errors: ruleIds },
    },
  },
} as const;
