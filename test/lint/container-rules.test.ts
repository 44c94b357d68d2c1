import { describe, expect, it } from 'vitest';
import { capDropAll, dockerSocketRw, imageLatest, imageTag, memoryLimitMissing, noNewPrivileges } from '../../src/lint/rules/container.js';
import { desiredFrom, stackRepo } from '../support/plan-fixtures.js';

/** One stack `s` with the given services block (indented under `services:`). */
const one = (services: string) => desiredFrom(stackRepo({ s: `services:\n${services}` }));
const objects = (fs: { object: string }[]) => fs.map((f) => f.object);

describe('no-new-privileges', () => {
  it('reports a service without the security option, not one with it in any spelling Docker accepts', () => {
    const d = one(
      [
        '  bare: {image: "a:1"}',
        '  colon: {image: "a:1", security_opt: ["no-new-privileges:true"]}',
        '  plain: {image: "a:1", security_opt: ["no-new-privileges"]}',
        '  equals: {image: "a:1", security_opt: ["no-new-privileges=true"]}',
        '  off: {image: "a:1", security_opt: ["no-new-privileges:false"]}',
        '  other: {image: "a:1", security_opt: ["apparmor:unconfined"]}',
      ].join('\n') + '\n',
    );
    const fs = noNewPrivileges.check(d);
    expect(objects(fs)).toEqual(['s/bare', 's/off', 's/other']);
    expect(fs[0]).toMatchObject({ rule: 'no-new-privileges', stack: 's', service: 'bare', message: 'security_opt lacks no-new-privileges:true', at: ['services', 'bare', 'security_opt'] });
  });
});

describe('cap-drop-all', () => {
  it('wants ALL among the dropped capabilities (any case, cap_add does not matter)', () => {
    const d = one(
      [
        '  bare: {image: "a:1"}',
        '  some: {image: "a:1", cap_drop: [NET_RAW, MKNOD]}',
        '  all: {image: "a:1", cap_drop: [ALL], cap_add: [NET_BIND_SERVICE]}',
        '  lower: {image: "a:1", cap_drop: [all]}',
      ].join('\n') + '\n',
    );
    const fs = capDropAll.check(d);
    expect(objects(fs)).toEqual(['s/bare', 's/some']);
    expect(fs[0]!.message).toBe('cap_drop lacks ALL');
  });
});

describe('memory-limit-missing', () => {
  it('accepts mem_limit and deploy.resources.limits.memory; a reservation or a CPU limit is not a limit', () => {
    const d = one(
      [
        '  bare: {image: "a:1"}',
        '  legacy: {image: "a:1", mem_limit: 256m}',
        '  deploy: {image: "a:1", deploy: {resources: {limits: {memory: 1G}}}}',
        '  reserved: {image: "a:1", deploy: {resources: {reservations: {memory: 1G}, limits: {cpus: "1"}}}}',
      ].join('\n') + '\n',
    );
    expect(objects(memoryLimitMissing.check(d))).toEqual(['s/bare', 's/reserved']);
  });
});

describe('image-latest', () => {
  it('reports `latest` and untagged images; version tags and digest pins pass', () => {
    const d = one(
      [
        '  untagged: {image: "nginx"}',
        '  latest: {image: "ghcr.io/acme/api:latest"}',
        '  registry-port: {image: "registry.local:5000/acme/api"}',
        '  tagged: {image: "registry.local:5000/acme/api:1.2.3"}',
        '  digest: {image: "nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000"}',
      ].join('\n') + '\n',
    );
    const fs = imageLatest.check(d);
    expect(fs.map((f) => [f.object, f.message])).toEqual([
      ['s/latest', 'image ghcr.io/acme/api:latest uses the latest tag'],
      ['s/registry-port', 'image registry.local:5000/acme/api has no tag (means latest)'],
      ['s/untagged', 'image nginx has no tag (means latest)'],
    ]);
  });

  it('reads the tag from the last path component only', () => {
    expect(imageTag('registry.local:5000/acme/api')).toBe('');
    expect(imageTag('postgres:18.1')).toBe('18.1');
    expect(imageTag('a@sha256:ab')).toBeNull();
  });
});

describe('docker-socket-rw', () => {
  it('reports the Docker socket bound without :ro, under /var/run, /run or a rootless runtime dir', () => {
    const d = one(
      [
        '  rw: {image: "a:1", volumes: ["/var/run/docker.sock:/var/run/docker.sock"]}',
        '  run: {image: "a:1", volumes: ["/run/docker.sock:/var/run/docker.sock:rw"]}',
        '  rootless: {image: "a:1", volumes: ["/run/user/1000/docker.sock:/var/run/docker.sock"]}',
        '  ro: {image: "a:1", volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"]}',
        '  long: {image: "a:1", volumes: [{type: bind, source: /var/run/docker.sock, target: /docker.sock, read_only: true}]}',
        '  other: {image: "a:1", volumes: ["/var/run/other.sock:/other.sock"]}',
      ].join('\n') + '\n',
    );
    const fs = dockerSocketRw.check(d);
    expect(fs.map((f) => [f.object, f.message])).toEqual([
      ['s/rootless', 'mounts /run/user/1000/docker.sock read-write'],
      ['s/run', 'mounts /run/docker.sock read-write'],
      ['s/rw', 'mounts /var/run/docker.sock read-write'],
    ]);
  });
});
