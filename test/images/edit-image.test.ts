import { describe, expect, it } from 'vitest';
import { setServiceImage } from '../../src/images/edit-image.js';

const changedLines = (a: string, b: string) => {
  const x = a.split('\n');
  const y = b.split('\n');
  expect(y.length).toBe(x.length);
  return x.filter((line, i) => line !== y[i]).length;
};

describe('setServiceImage', () => {
  const text = `# the web stack\nservices:\n  web:\n    image: "reg.example/web:1.4.0"   # pinned by berth\n    x-berth:\n      imagePolicy: { semver: "^1.4" }\n\n  db:\n    image: reg.example/web:1.4.0\n`;
  it("changes only that service's image line, keeping quotes and comments", () => {
    const out = setServiceImage(text, 'web', 'reg.example/web:1.5.0')!;
    expect(changedLines(text, out)).toBe(1);
    expect(out).toContain('    image: "reg.example/web:1.5.0"   # pinned by berth\n');
    expect(out).toContain('  db:\n    image: reg.example/web:1.4.0\n');
  });
  it('plain scalars stay plain', () => {
    const out = setServiceImage(text, 'db', 'reg.example/web:1.5.0')!;
    expect(changedLines(text, out)).toBe(1);
    expect(out).toContain('  db:\n    image: reg.example/web:1.5.0\n');
  });
  it('null for a missing service, an interpolated image, or a broken file', () => {
    expect(setServiceImage(text, 'cache', 'x:1')).toBeNull();
    expect(setServiceImage('services:\n  a:\n    image: web:${TAG}\n', 'a', 'web:2')).toBeNull();
    expect(setServiceImage('services: [\n', 'a', 'web:2')).toBeNull();
  });
});
