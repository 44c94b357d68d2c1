import type { PullReporter } from '../apply/prepare-images.js';
import type { CliIO } from './io.js';

/**
 * How `berth apply` shows the prepare phase: a line when an image starts and
 * when it is done; on a terminal also its layers as they complete (one line
 * per change of the count, so a log file stays short).
 */
export function pullLines(io: CliIO): PullReporter {
  const layers = new Map<string, { all: Set<string>; done: Set<string>; shown: number }>();
  return {
    pullStarted: (image) => io.out(`  ↓ ${image}  pulling`),
    pullProgress: (image, p) => {
      if (!io.isTTY || !p.id) return;
      const l = layers.get(image) ?? { all: new Set<string>(), done: new Set<string>(), shown: 0 };
      layers.set(image, l);
      l.all.add(p.id);
      if (p.status === 'Pull complete' || p.status === 'Already exists') l.done.add(p.id);
      if (l.done.size !== l.shown) {
        l.shown = l.done.size;
        io.out(`  ↓ ${image}  ${l.done.size}/${l.all.size} layers`);
      }
    },
    pullFinished: (image, o) => io.out(o.ok ? `  ↓ ${image}  pulled (${(o.durationMs / 1000).toFixed(1)}s)` : `  ✗ ${image}  ${o.error ?? 'pull failed'}`),
  };
}
