import { describe, expect, it } from 'vitest';
import { apiAtLeast, containerCreateBody, networksInOrder, parseDevice, restartPolicy } from '../../src/adapters/container-body.js';
import type { ServiceSpec } from '../../src/model/desired.js';
import { serviceSpec } from '../support/service-spec.js';

/** The create body as plain data: every Compose field lands where the Engine API wants it. */
const spec = serviceSpec;
const body = (p: Partial<ServiceSpec> = {}, api = '1.41', labels: Record<string, string> = {}) => containerCreateBody(spec(p), 'shop-web-1', labels, api);

describe('containerCreateBody', () => {
  it('a minimal service: image, empty env, labels, restart no, the default network with the service alias', () => {
    expect(body({}, '1.41', { 'io.berth.managed': 'true' })).toEqual({
      Image: 'app:v1',
      Env: [],
      Labels: { 'io.berth.managed': 'true' },
      Tty: false,
      OpenStdin: false,
      HostConfig: { RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, ReadonlyRootfs: false, Privileged: false, PortBindings: {}, NetworkMode: 'shop_default' },
      NetworkingConfig: { EndpointsConfig: { shop_default: { Aliases: ['web'] } } },
    });
  });

  it('command, entrypoint (an empty entrypoint stays empty: it resets the image one), user, dirs, names, tty, stop settings', () => {
    const b = body({
      command: ['serve', '--port', '80'],
      entrypoint: [],
      user: '1000:1000',
      workingDir: '/srv',
      hostname: 'h',
      domainname: 'd.example',
      tty: true,
      stdinOpen: true,
      stopSignal: 'SIGINT',
      stopGracePeriodSeconds: 30,
    });
    expect(b).toMatchObject({ Cmd: ['serve', '--port', '80'], Entrypoint: [], User: '1000:1000', WorkingDir: '/srv', Hostname: 'h', Domainname: 'd.example', Tty: true, OpenStdin: true, StopSignal: 'SIGINT', StopTimeout: 30 });
    expect(body()).not.toHaveProperty('Cmd');
    expect(body()).not.toHaveProperty('Entrypoint');
  });

  it('Env is sorted K=V; unset (null) keys are not passed', () => {
    expect(body({ environment: { Z: '1', A: 'x=y', EMPTY: '', UNSET: null } }).Env).toEqual(['A=x=y', 'EMPTY=', 'Z=1']);
  });

  it('ports: ExposedPorts from ports and expose, PortBindings with host ip, udp, and Docker-picked host ports', () => {
    const b = body({
      ports: [
        { target: 80, published: 8080, hostIp: '127.0.0.1', protocol: 'tcp' },
        { target: 80, published: 8081, hostIp: '::1', protocol: 'tcp' },
        { target: 53, published: 5353, hostIp: '', protocol: 'udp' },
        { target: 9090, published: null, hostIp: '', protocol: 'tcp' },
      ],
      expose: ['7000/tcp'],
    });
    expect(b.ExposedPorts).toEqual({ '53/udp': {}, '7000/tcp': {}, '80/tcp': {}, '9090/tcp': {} });
    expect(b.HostConfig.PortBindings).toEqual({
      '53/udp': [{ HostIp: '', HostPort: '5353' }],
      '80/tcp': [
        { HostIp: '127.0.0.1', HostPort: '8080' },
        { HostIp: '::1', HostPort: '8081' },
      ],
      '9090/tcp': [{ HostIp: '', HostPort: '' }],
    });
  });

  it('mounts: named/anonymous volumes and long-syntax binds as Mounts; short binds (create the host dir) and SELinux binds as Binds; tmpfs with options as Tmpfs', () => {
    const b = body({
      mounts: [
        { type: 'volume', source: 'shop_data', target: '/data', readOnly: false, noCopy: false },
        { type: 'volume', source: null, target: '/cache', readOnly: false, noCopy: false },
        { type: 'volume', source: 'shop_logs', target: '/logs', readOnly: true, noCopy: true },
        { type: 'bind', source: '/srv/conf', target: '/etc/conf', readOnly: true, propagation: 'rprivate', createHostPath: true, selinux: '' },
        { type: 'bind', source: '/srv/labelled', target: '/l', readOnly: false, propagation: 'rshared', createHostPath: false, selinux: 'z' },
        { type: 'bind', source: '/srv/static', target: '/static', readOnly: true, propagation: 'rprivate', createHostPath: false, selinux: '' },
        { type: 'bind', source: '/srv/shared', target: '/shared', readOnly: false, propagation: 'rslave', createHostPath: false, selinux: '' },
        { type: 'tmpfs', target: '/scratch', sizeBytes: 1048576, mode: null, options: [] },
        { type: 'tmpfs', target: '/plain', sizeBytes: null, mode: null, options: [] },
        { type: 'tmpfs', target: '/run', sizeBytes: 2097152, mode: 0o1770, options: ['noexec', 'uid=1000'] },
      ],
    });
    expect(b.HostConfig.Binds).toEqual(['/srv/conf:/etc/conf:ro', '/srv/labelled:/l:rw,z,rshared']);
    expect(b.HostConfig.Mounts).toEqual([
      { Type: 'volume', Source: 'shop_data', Target: '/data' },
      { Type: 'volume', Target: '/cache' },
      { Type: 'volume', Source: 'shop_logs', Target: '/logs', ReadOnly: true, VolumeOptions: { NoCopy: true } },
      { Type: 'bind', Source: '/srv/static', Target: '/static', ReadOnly: true },
      { Type: 'bind', Source: '/srv/shared', Target: '/shared', BindOptions: { Propagation: 'rslave' } },
      { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576 } },
      { Type: 'tmpfs', Target: '/plain' },
    ]);
    expect(b.HostConfig.Tmpfs).toEqual({ '/run': 'size=2097152,mode=1770,noexec,uid=1000' });
    expect(body().HostConfig).not.toHaveProperty('Mounts');
    expect(body().HostConfig).not.toHaveProperty('Binds');
  });

  it('healthcheck: full, disabled, and timings without a test (the image test is kept: Test is left out)', () => {
    const full = body({
      healthcheck: { disable: false, test: ['CMD', 'pg_isready'], intervalNs: 5e9, timeoutNs: 3e9, startPeriodNs: 1e9, startIntervalNs: 5e8, retries: 5 },
    });
    expect(full.Healthcheck).toEqual({ Test: ['CMD', 'pg_isready'], Interval: 5e9, Timeout: 3e9, StartPeriod: 1e9, Retries: 5 });
    const on144 = body({ healthcheck: { disable: false, test: ['CMD', 'x'], intervalNs: null, timeoutNs: null, startPeriodNs: null, startIntervalNs: 5e8, retries: null } }, '1.44');
    expect(on144.Healthcheck).toEqual({ Test: ['CMD', 'x'], StartInterval: 5e8 });
    expect(body({ healthcheck: { disable: true } }).Healthcheck).toEqual({ Test: ['NONE'] });
    const timingsOnly = body({ healthcheck: { disable: false, test: null, intervalNs: 3e9, timeoutNs: null, startPeriodNs: null, startIntervalNs: null, retries: 7 } });
    expect(timingsOnly.Healthcheck).toEqual({ Interval: 3e9, Retries: 7 });
    expect(body({ healthcheck: { disable: false, test: null, intervalNs: null, timeoutNs: null, startPeriodNs: null, startIntervalNs: null, retries: null } })).not.toHaveProperty('Healthcheck');
    expect(body()).not.toHaveProperty('Healthcheck');
  });

  it('restart policies', () => {
    expect(restartPolicy('no')).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(restartPolicy('always')).toEqual({ Name: 'always', MaximumRetryCount: 0 });
    expect(restartPolicy('unless-stopped')).toEqual({ Name: 'unless-stopped', MaximumRetryCount: 0 });
    expect(restartPolicy('on-failure')).toEqual({ Name: 'on-failure', MaximumRetryCount: 0 });
    expect(restartPolicy('on-failure:3')).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
  });

  it('networks: on API < 1.44 only the primary (highest priority, then key) at create; on 1.44 all; aliases + service name; static IPs', () => {
    const networks = [
      { key: 'back', name: 'shop_back', aliases: ['api'], ipv4Address: '172.30.0.10', ipv6Address: null, priority: 0 },
      { key: 'front', name: 'edge', aliases: ['www', 'web'], ipv4Address: null, ipv6Address: 'fd00::10', priority: 10 },
      { key: 'admin', name: 'shop_admin', aliases: [], ipv4Address: null, ipv6Address: null, priority: 0 },
    ];
    expect(networksInOrder({ networks }).map((n) => n.key)).toEqual(['front', 'admin', 'back']);
    const old = body({ networks });
    expect(old.HostConfig.NetworkMode).toBe('edge');
    expect(old.NetworkingConfig).toEqual({ EndpointsConfig: { edge: { Aliases: ['web', 'www'], IPAMConfig: { IPv6Address: 'fd00::10' } } } });
    const all = body({ networks }, '1.44');
    expect(all.HostConfig.NetworkMode).toBe('edge');
    expect(all.NetworkingConfig?.EndpointsConfig).toEqual({
      edge: { Aliases: ['web', 'www'], IPAMConfig: { IPv6Address: 'fd00::10' } },
      shop_admin: { Aliases: ['web'] },
      shop_back: { Aliases: ['web', 'api'], IPAMConfig: { IPv4Address: '172.30.0.10' } },
    });
  });

  it('network_mode: as given, without NetworkingConfig; service:NAME means that service\'s container', () => {
    const host = body({ networkMode: 'host', networks: [] });
    expect(host.HostConfig.NetworkMode).toBe('host');
    expect(host).not.toHaveProperty('NetworkingConfig');
    expect(body({ networkMode: 'service:vpn', networks: [] }).HostConfig.NetworkMode).toBe('container:shop-vpn-1');
    expect(body({ networkMode: 'container:abc', networks: [] }).HostConfig.NetworkMode).toBe('container:abc');
  });

  it('security and kernel settings', () => {
    const b = body({
      readOnly: true,
      privileged: true,
      init: true,
      capAdd: ['NET_ADMIN'],
      capDrop: ['ALL'],
      securityOpt: ['no-new-privileges:true'],
      sysctls: { 'net.core.somaxconn': '1024' },
      groupAdd: ['audio'],
      devices: ['/dev/fuse', '/dev/sda:/dev/xvda:r', '/dev/kvm:rw'],
      extraHosts: ['db.internal:10.0.0.5'],
      dns: ['1.1.1.1'],
      dnsSearch: ['example.internal'],
      pidMode: 'host',
      ipcMode: 'shareable',
      shmSizeBytes: 33554432,
      logging: { driver: 'json-file', options: { 'max-size': '1m' } },
      ulimits: { nproc: { soft: 512, hard: 512 }, nofile: { soft: 1024, hard: 2048 } },
    });
    expect(b.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      Privileged: true,
      Init: true,
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Sysctls: { 'net.core.somaxconn': '1024' },
      GroupAdd: ['audio'],
      Devices: [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
        { PathOnHost: '/dev/kvm', PathInContainer: '/dev/kvm', CgroupPermissions: 'rw' },
      ],
      ExtraHosts: ['db.internal:10.0.0.5'],
      Dns: ['1.1.1.1'],
      DnsSearch: ['example.internal'],
      PidMode: 'host',
      IpcMode: 'shareable',
      ShmSize: 33554432,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 2048 },
        { Name: 'nproc', Soft: 512, Hard: 512 },
      ],
    });
    expect(body({ init: false }).HostConfig.Init).toBe(false);
    expect(body().HostConfig).not.toHaveProperty('Init');
  });

  it('resources: limits and reservations; a CPU reservation has no engine equivalent and is left out', () => {
    const b = body({
      resources: {
        memoryBytes: 64 * 2 ** 20,
        memoryReservationBytes: 32 * 2 ** 20,
        nanoCpus: 5e8,
        cpuReservationNano: 25e7,
        pidsLimit: 100,
        cpusetCpus: '0-1',
        cpuShares: 512,
        cpuQuota: 50000,
        cpuPeriod: 100000,
        memorySwapBytes: -1,
        memorySwappiness: 0,
        oomScoreAdj: 100,
        oomKillDisable: true,
      },
    });
    expect(b.HostConfig).toMatchObject({
      Memory: 67108864,
      MemoryReservation: 33554432,
      NanoCpus: 5e8,
      PidsLimit: 100,
      CpusetCpus: '0-1',
      CpuShares: 512,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      MemorySwap: -1,
      MemorySwappiness: 0,
      OomScoreAdj: 100,
      OomKillDisable: true,
    });
    expect(JSON.stringify(b)).not.toContain('250000000');
  });

  it('is deterministic: same spec, same bytes', () => {
    const s = { environment: { B: '2', A: '1' }, sysctls: { b: '1', a: '2' } };
    expect(JSON.stringify(body(s))).toBe(JSON.stringify(body(s)));
    expect(Object.keys(body(s).HostConfig.Sysctls!)).toEqual(['a', 'b']);
  });
});

describe('helpers', () => {
  it('apiAtLeast compares numerically', () => {
    expect(apiAtLeast('1.41', '1.44')).toBe(false);
    expect(apiAtLeast('1.44', '1.44')).toBe(true);
    expect(apiAtLeast('1.100', '1.44')).toBe(true);
    expect(apiAtLeast('2.0', '1.44')).toBe(true);
  });
  it('parseDevice reads HOST[:CONTAINER][:PERMISSIONS]', () => {
    expect(parseDevice('/dev/ttyUSB0:/dev/modem:rw')).toEqual({ PathOnHost: '/dev/ttyUSB0', PathInContainer: '/dev/modem', CgroupPermissions: 'rw' });
  });
});
