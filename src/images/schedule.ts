import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { DesiredState } from '../model/desired.js';
import { ImageAutomation, type ImageAutomationDeps } from './automation.js';

export interface ImageScheduleOptions {
  deps: ImageAutomationDeps;
  url: string;
  branch: string;
  intervalMs: number;
  /** The deployed revision's settings: its forge, never a pull request's (the forge settings are trusted input). */
  deployed: () => { settings: DesiredState['settings']; revision: string | null } | null;
  clock: Clock;
  log: Logger;
}

/**
 * Image automation inside `berth run`: a pass every `intervalMs`, once a
 * revision is deployed (before that, the repository may not even be valid).
 * Passes never overlap; one that fails is logged and the next one retries.
 * Returns the stop function, which waits for a running pass to end.
 */
export function runImageAutomation(o: ImageScheduleOptions): () => Promise<void> {
  const stop = new AbortController();
  const automation = new ImageAutomation(o.deps);
  let passes = 0;
  const loop = (async () => {
    while (!stop.signal.aborted) {
      const deployed = o.deployed();
      if (deployed?.revision) {
        try {
          const outcomes = await automation.pass(o.url, o.branch, deployed.settings.forge ?? null);
          passes += 1;
          o.log.debug({ pass: passes, updates: outcomes.length }, 'image automation pass done');
        } catch (e) {
          o.log.warn({ err: (e as Error).message }, 'image automation pass failed; retried next interval');
        }
      }
      await o.clock.sleep(deployed?.revision ? o.intervalMs : Math.min(o.intervalMs, 1000), stop.signal);
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}
