import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/labels.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import { replicaSpec } from '../../src/model/replicas.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { renderPlanJson, renderPlanText } from '../../src/plan/render.js';
import { expectGolden as golden } from '../support/golden.js';
import { appliedFor, containerFor, desiredFrom, findService, liveFor, stackRepo, withInventory } from '../support/plan-fixtures.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

const repo = (o: { web: number; worker: number; image?: string; update?: string }) =>
  desiredFrom(
    stackRepo({
      web: `services:
  web:
    image: ${o.image ?? 'berth-test/web:v1'}
    deploy:
      replicas: ${o.web}
${o.update ?? ''}  worker:
    image: berth-test/worker:1
    scale: ${o.worker}
`,
    }),
  );

/** The host running `desired` with the given replica counts. */
function host(desired: DesiredState, counts: Record<string, number>): LiveState {
  const live = liveFor(desired);
  live.containers = [];
  for (const [name, n] of Object.entries(counts)) {
    const spec = findService(desired, 'web', name);
    for (let k = 1; k <= n; k++) {
      const r = replicaSpec(spec, k);
      live.containers.push(containerFor(r, { labels: { ...containerFor(r).labels, [LABEL.composeContainerNumber]: String(k) } }));
    }
  }
  return live;
}

const plan = (desired: DesiredState, live: LiveState, before: DesiredState) => buildPlan(desired, live, withInventory(appliedFor(before), live), null);

describe('plan text for scaled services', () => {
  it('golden: scale up and down (web 2 → 3, worker 3 → 1)', () => {
    const before = repo({ web: 2, worker: 3 });
    const after = repo({ web: 3, worker: 1 });
    const text = renderPlanText(plan(after, host(before, { web: 2, worker: 3 }), before));
    golden(GOLDEN, 'replicas-scale.txt', text);
    expect(text).toContain('+ web/web#3');
    expect(text).toContain('scale 2 → 3');
  });

  it('golden: a rolling update over three replicas, two at a time, and one more replica after it', () => {
    const update = '      update_config:\n        parallelism: 2\n        order: start-first\n        failure_action: pause\n';
    const before = repo({ web: 3, worker: 1, update });
    const after = repo({ web: 4, worker: 1, update, image: 'berth-test/web:v2' });
    const p = plan(after, host(before, { web: 3, worker: 1 }), before);
    golden(GOLDEN, 'replicas-rolling.txt', renderPlanText(p));
    const json = renderPlanJson(p).ops.find((o) => o.kind === 'service.rolling')!;
    expect(json.replicas?.map((r) => r.container)).toEqual(['web-web-1', 'web-web-2', 'web-web-3']);
    // Same inputs, same bytes.
    expect(renderPlanText(plan(after, host(before, { web: 3, worker: 1 }), before))).toBe(renderPlanText(p));
  });
});
