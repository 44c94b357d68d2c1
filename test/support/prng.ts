/**
 * A small seeded PRNG (mulberry32) for fuzz tests: the same seed replays the
 * same inputs, so a failure printed with its seed can be reproduced.
 */
export interface Rng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  /** `n` characters drawn from `alphabet`. */
  string(n: number, alphabet: string): string;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed: seed >>> 0,
    next,
    int,
    pick: (xs) => xs[int(0, xs.length - 1)]!,
    chance: (p) => next() < p,
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = int(0, 255);
      return b;
    },
    string: (n, alphabet) => {
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[int(0, alphabet.length - 1)];
      return s;
    },
  };
}

/** The seed from `envName` when set (to replay a failure), else a fresh one. */
export function seedFrom(envName: string): number {
  const v = process.env[envName];
  if (v !== undefined && /^\d+$/.test(v)) return Number(v) >>> 0;
  return (Date.now() ^ (process.pid << 16) ^ Math.floor(Math.random() * 2 ** 32)) >>> 0;
}
