import PQueue from 'p-queue';
import type { ImageInputs } from '../../controllers/image.js';
import { normalizeImageRef } from '../../controllers/context.js';
import type { DesiredState } from '../model/desired.js';
import type { LiveState } from '../model/live.js';
import type { RegistryPort } from '../ports/registry.js';
import type { StateStore } from '../ports/state.js';
import { EMPTY_PINS, recordPins, type PinLedger } from './pins.js';
import { checkDue, scheduleOf, type PullTimes } from './pull-schedule.js';
import { parseImageRef } from './reference.js';

export const PINS_FILE = 'image-pins.json';
export const PULL_TIMES_FILE = 'image-pulls.json';
const CHECKS_AT_ONCE = 8;

/**
 * Tags to ask the registry about in this pass (pure): those whose pull policy
 * is due (`always`, an interval that elapsed), or all of them for
 * `--refresh`. Digest references are never asked: they cannot move.
 */
export function refsToCheck(desired: DesiredState, times: PullTimes, nowMs: number, refreshAll: boolean): string[] {
  const out = new Set<string>();
  for (const stack of desired.stacks) {
    for (const svc of stack.services) {
      const ref = normalizeImageRef(svc.image);
      // A built content tag (berth.local/…) exists on this host only: no registry knows it.
      if (ref.includes('@') || svc.build?.tag) continue;
      if (refreshAll || checkDue(scheduleOf(svc), times[ref], nowMs)) out.add(ref);
    }
  }
  return [...out].sort();
}

/**
 * The image side of the planner's input: pins from the state dir, and the
 * registry's answers for the tags due a check (manifest HEADs, bounded
 * concurrency). A registry that does not answer is a warning per image, not
 * an error: the plan then works with what the host has.
 */
export async function gatherImageInputs(
  desired: DesiredState,
  state: StateStore,
  registry: RegistryPort | undefined,
  nowMs: number,
  refreshAll: boolean,
): Promise<{ inputs: ImageInputs; checked: string[] }> {
  const [pins, times] = await Promise.all([
    state.readJson<PinLedger>(PINS_FILE).catch(() => null),
    state.readJson<PullTimes>(PULL_TIMES_FILE).catch(() => null),
  ]);
  const remote = new Map<string, string>();
  const remoteErrors = new Map<string, string>();
  const refs = registry ? refsToCheck(desired, times ?? {}, nowMs, refreshAll) : [];
  const queue = new PQueue({ concurrency: CHECKS_AT_ONCE });
  await Promise.all(
    refs.map((ref) =>
      queue.add(async () => {
        try {
          remote.set(ref, await registry!.resolveDigest(parseImageRef(ref)));
        } catch (e) {
          remoteErrors.set(ref, (e as Error).message);
        }
      }),
    ),
  );
  return { inputs: { pins: (pins ?? EMPTY_PINS).pins ?? {}, remote, remoteErrors, refreshAll }, checked: [...remote.keys()] };
}

/**
 * After an apply: pin what each definition now runs, and note when each tag
 * was last pulled or confirmed by the registry (the clock of the interval
 * policies). `live` is the host after the apply.
 */
export async function recordImageFacts(
  state: StateStore,
  desired: DesiredState,
  live: Pick<LiveState, 'containers' | 'images'>,
  pulledOrConfirmed: string[],
  now: Date,
): Promise<void> {
  const before = (await state.readJson<PinLedger>(PINS_FILE).catch(() => null)) ?? EMPTY_PINS;
  const after = recordPins(before, desired, live.containers, live.images ?? [], now);
  if (after !== before) await state.writeJson(PINS_FILE, after);
  const tags = pulledOrConfirmed.map(normalizeImageRef).filter((r) => !r.includes('@'));
  if (tags.length > 0) {
    const times = (await state.readJson<PullTimes>(PULL_TIMES_FILE).catch(() => null)) ?? {};
    for (const t of tags) times[t] = now.getTime();
    await state.writeJson(PULL_TIMES_FILE, times);
  }
}
