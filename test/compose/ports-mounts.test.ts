import { describe, expect, it } from 'vitest';
import { hostPortText, parseExpose, parsePortLong, parsePortShort } from '../../src/compose/ports.js';
import { parseMountLong, parseMountShort, parseTmpfs } from '../../src/compose/mounts.js';

const ok = <T>(r: T | { error: string }): T => {
  if (r && typeof r === 'object' && 'error' in r) throw new Error(r.error);
  return r as T;
};

describe('ports', () => {
  it('parses every short form', () => {
    expect(ok(parsePortShort('80')).ports).toEqual([{ target: 80, published: null, hostIp: '', protocol: 'tcp' }]);
    expect(ok(parsePortShort(80)).ports).toEqual(ok(parsePortShort('80')).ports);
    expect(ok(parsePortShort('8080:80')).ports).toEqual([{ target: 80, published: 8080, hostIp: '', protocol: 'tcp' }]);
    expect(ok(parsePortShort('127.0.0.1:5432:5432')).ports).toEqual([{ target: 5432, published: 5432, hostIp: '127.0.0.1', protocol: 'tcp' }]);
    expect(ok(parsePortShort('127.0.0.1::80')).ports).toEqual([{ target: 80, published: null, hostIp: '127.0.0.1', protocol: 'tcp' }]);
    expect(ok(parsePortShort('[::1]:8080:80/udp')).ports).toEqual([{ target: 80, published: 8080, hostIp: '::1', protocol: 'udp' }]);
    expect(ok(parsePortShort('9000-9001:8000-8001')).ports).toEqual([
      { target: 8000, published: 9000, hostIp: '', protocol: 'tcp' },
      { target: 8001, published: 9001, hostIp: '', protocol: 'tcp' },
    ]);
  });

  it('gives the long form the same meaning', () => {
    expect(ok(parsePortLong({ target: 80, published: '8080' })).ports).toEqual(ok(parsePortShort('8080:80')).ports);
    expect(ok(parsePortLong({ target: 53, published: 53, protocol: 'udp', host_ip: '0.0.0.0' })).ports[0]!.protocol).toBe('udp');
  });

  it('rejects nonsense', () => {
    for (const bad of ['abc', '0', '70000', '1:2:3:4', '80/xtp', '8000-8002:80-81', '8000-8001:80-82']) expect('error' in parsePortShort(bad)).toBe(true);
  });

  it('a host range for one container port is one mapping: the engine binds the first free port of the range (as Compose)', () => {
    const [p] = ok(parsePortShort('6005-6015:80')).ports;
    expect(p).toEqual({ target: 80, published: 6005, publishedEnd: 6015, hostIp: '', protocol: 'tcp' });
    expect(hostPortText(p!)).toBe('6005-6015');
    expect(ok(parsePortLong({ target: 80, published: '6005-6015' })).ports).toEqual([p]);
    expect(ok(parsePortShort('127.0.0.1:7000-7001:53/udp')).ports).toEqual([{ target: 53, published: 7000, publishedEnd: 7001, hostIp: '127.0.0.1', protocol: 'udp' }]);
    expect(hostPortText(ok(parsePortShort('8080:80')).ports[0]!)).toBe('8080');
    expect(hostPortText(ok(parsePortShort('80')).ports[0]!)).toBe('');
  });

  it('expands expose', () => {
    expect(parseExpose('3000')).toEqual(['3000/tcp']);
    expect(parseExpose('53/udp')).toEqual(['53/udp']);
    expect(parseExpose('3000-3001')).toEqual(['3000/tcp', '3001/tcp']);
    expect(parseExpose('x')).toBeNull();
  });
});

describe('mounts', () => {
  const ctx = { stackDir: '/repo/stacks/web', volumeName: (k: string) => (k === 'data' ? 'web_data' : undefined) };

  it('resolves named volumes, binds and anonymous volumes', () => {
    expect(ok(parseMountShort('data:/var/lib/data:ro', ctx)).mount).toEqual({ type: 'volume', source: 'web_data', target: '/var/lib/data', readOnly: true, noCopy: false });
    expect(ok(parseMountShort('./conf:/etc/app', ctx)).mount).toMatchObject({ type: 'bind', source: '/repo/stacks/web/conf', createHostPath: true });
    expect(ok(parseMountShort('/var/run/docker.sock:/var/run/docker.sock:ro', ctx)).mount).toMatchObject({ type: 'bind', source: '/var/run/docker.sock', readOnly: true });
    expect(ok(parseMountShort('/cache', ctx)).mount).toEqual({ type: 'volume', source: null, target: '/cache', readOnly: false, noCopy: false });
    expect('error' in parseMountShort('undeclared:/x', ctx)).toBe(true);
    expect('error' in parseMountShort('data:relative', ctx)).toBe(true);
  });

  it('gives the long form the same meaning as the short form for volumes', () => {
    expect(ok(parseMountLong({ type: 'volume', source: 'data', target: '/var/lib/data', read_only: true }, ctx)).mount).toEqual(
      ok(parseMountShort('data:/var/lib/data:ro', ctx)).mount,
    );
  });

  it('parses an image mount (always read-only, with its subpath)', () => {
    expect(ok(parseMountLong({ type: 'image', source: 'nginx:alpine', target: '/mnt/image', image: { subpath: 'usr/share/nginx/html/' } }, ctx)).mount).toEqual({
      type: 'image',
      source: 'nginx:alpine',
      target: '/mnt/image',
      readOnly: true,
      subpath: 'usr/share/nginx/html/',
    });
    expect(parseMountLong({ type: 'image', target: '/mnt/image' }, ctx)).toEqual({ error: 'an image mount needs a `source` (the image)' });
  });

  it('parses tmpfs with size and mode', () => {
    expect(ok(parseTmpfs('/run:size=64m,mode=1777,noexec')).mount).toEqual({ type: 'tmpfs', target: '/run', sizeBytes: 64 * 1024 ** 2, mode: 0o1777, options: ['noexec'] });
    expect(ok(parseMountLong({ type: 'tmpfs', target: '/run', tmpfs: { size: '64m', mode: 1777 } }, ctx)).mount).toMatchObject({ sizeBytes: 64 * 1024 ** 2, mode: 0o1777 });
  });
});
