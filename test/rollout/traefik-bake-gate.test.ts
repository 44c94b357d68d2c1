import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/model/desired.js';
import type { Clock } from '../../src/ports/clock.js';
import type { ContainerDetails } from '../../src/ports/docker.js';
import type { TraefikPort } from '../../src/ports/traefik.js';
import { bakeGateFactory, swarmBakeGateFactory } from '../../src/rollout/traefik-bake-gate.js';
import { serviceSpec } from '../support/service-spec.js';
import { swarmDesired } from '../swarm/fixtures.js';

/** Time moves by the sleeps. */
function tickingClock(): Clock {
  let t = 0;
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

/** Traefik's API in memory: services with their servers' hosts, each server on port 80 and UP. */
function traefikListing(name: string, hosts: Record<string, string[]> = { [name]: ['10.0.0.9'] }): TraefikPort {
  const svc = (n: string, urls: string[]) => ({ name: n, status: 'enabled', loadBalancer: { servers: urls.map((url) => ({ url })) }, serverStatus: Object.fromEntries(urls.map((u) => [u, 'UP'])) });
  return {
    services: async () => Object.entries(hosts).map(([n, h]) => svc(n, h.map((x) => `http://${x}:80`))),
    routers: async () => [],
    overview: async () => ({}),
    metrics: async () => null,
  };
}

// Only a router: the server goes into the provider's default service, named differently by the two providers.
const LABELS = { 'traefik.http.routers.web.rule': 'Host(`shop.example`)' };
const desired: DesiredState = swarmDesired({ shop: 'services:\n  web:\n    image: acme/web:1\n' }, 'traefik:\n  api: http://traefik:8080\nrollout:\n  bakeSeconds: 2\n');

describe('the Traefik bake gates of berth.yaml traefik:', () => {
  it("an engine container's default Traefik service is <service>-<project>", async () => {
    const gate = bakeGateFactory(tickingClock(), () => traefikListing('web-shop@docker'))(desired)!;
    const container = { labels: LABELS, addresses: { shop_default: '10.0.0.9' } } as Partial<ContainerDetails> as ContainerDetails;
    expect(await gate({ spec: serviceSpec(), container, progress: () => undefined })).toBe('traefik: web-shop@docker baked 2s (http://10.0.0.9:80 in web-shop@docker UP)');
  });

  it("a swarm service's default Traefik service is its own name (<stack>-<service>); an engine-named one does not count", async () => {
    const gate = swarmBakeGateFactory(tickingClock(), () => traefikListing('shop-web@docker'))(desired)!;
    const input = { stack: 'shop', service: 'web', name: 'shop_web', labels: LABELS, serverHosts: ['10.0.0.9'], progress: () => undefined };
    expect(await gate(input)).toBe('traefik: shop-web@docker baked 2s (http://10.0.0.9:80 in shop-web@docker UP)');
    // The swarm-named service still lists only an old task: the new ones are not in it yet, whatever else carries them.
    const stale = swarmBakeGateFactory(tickingClock(), () => traefikListing('', { 'shop-web@docker': ['10.0.0.4'], 'web-shop@docker': ['10.0.0.9'] }))(desired)!;
    await expect(stale(input)).rejects.toThrow('new container not registered in Traefik within 2s: shop-web@docker does not list 10.0.0.9');
  });

  it('no traefik: in berth.yaml → no gate', () => {
    const plain = swarmDesired({ shop: 'services:\n  web:\n    image: acme/web:1\n' });
    expect(bakeGateFactory(tickingClock(), () => traefikListing('x@docker'))(plain)).toBeUndefined();
    expect(swarmBakeGateFactory(tickingClock(), () => traefikListing('x@docker'))(plain)).toBeUndefined();
  });
});
