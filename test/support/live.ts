import type { LiveContainer, LiveNetwork, LiveState } from '../../src/model/live.js';

/** Plain-data builders for LiveState in pure tests. */
export function liveContainer(p: Partial<LiveContainer> & { name: string }): LiveContainer {
  return {
    id: `id-${p.name}`,
    image: 'img',
    imageId: 'sha256:0',
    state: 'running',
    status: 'Up 1 minute',
    health: null,
    labels: {},
    networks: [],
    created: 0,
    ...p,
  };
}

export function liveNetwork(p: Partial<LiveNetwork> & { name: string }): LiveNetwork {
  return {
    id: `net-${p.name}`,
    driver: 'bridge',
    internal: false,
    attachable: false,
    enableIpv6: false,
    ipam: { driver: 'default', config: [] },
    labels: {},
    ...p,
  };
}

export function liveState(p: Partial<LiveState> = {}): LiveState {
  return { containers: [], networks: [], volumes: [], imageTags: [], ...p };
}
