import { describe, expect, it } from 'vitest';
import { decideImage, imageIndex, NO_IMAGE_INPUTS, type ImageInputs } from '../../controllers/image.js';
import type { ServiceSpec } from '../../src/model/desired.js';
import type { LiveContainer } from '../../src/model/live.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const IMG = 'r.io/app:v1';
const spec = (pullPolicy = 'missing') => ({ stack: 's', name: 'api', image: IMG, pullPolicy, configHash: 'v1:def' }) as unknown as ServiceSpec;
const pin = { image: IMG, imageId: 'sha256:idA', digest: A, revision: '3f2c9e1aa', at: '2026-01-01T00:00:00Z' };
const inputs = (over: Partial<ImageInputs> = {}): ImageInputs => ({ ...NO_IMAGE_INPUTS, ...over });
const tagNowB = [{ id: 'sha256:idB', repoTags: [IMG], repoDigests: [`r.io/app@${B}`] }];
const aLocal = { id: 'sha256:idA', repoTags: [], repoDigests: [`r.io/app@${A}`] };

describe('decideImage (pure): pins and moved tags', () => {
  it('a pinned definition runs the pinned image ID from the local store, with the reason the plan shows', () => {
    const d = decideImage(spec(), imageIndex([...tagNowB, aLocal]), true, inputs({ pins: { 'v1:def': pin } }));
    expect(d.image).toEqual({ pullRef: null, run: 'sha256:idA', digest: A, pinnedAt: '3f2c9e1aa' });
    expect(d.reasons).toEqual([`image ${IMG} (pinned to sha256:aaaaaaaaaaaa… as run at 3f2c9e1; the tag now names sha256:bbbbbbbbbbbb…)`]);
  });

  it('a pinned image gone from the host is pulled by digest; with pull_policy never that is an error', () => {
    expect(decideImage(spec(), imageIndex(tagNowB), true, inputs({ pins: { 'v1:def': pin } })).image.pullRef).toBe(`r.io/app@${A}`);
    expect(decideImage(spec('never'), imageIndex(tagNowB), true, inputs({ pins: { 'v1:def': pin } })).errors).toHaveLength(1);
  });

  it('a pin equal to what the tag names changes nothing', () => {
    const d = decideImage(spec(), imageIndex([{ ...aLocal, repoTags: [IMG] }]), true, inputs({ pins: { 'v1:def': pin } }));
    expect(d.image).toEqual({ pullRef: null, run: IMG, digest: A, pinnedAt: null });
    expect(d.reasons).toEqual([]);
  });

  it('always: a registry digest other than the running one is "tag moved" (pull, recreate); missing only warns', () => {
    const current = { imageId: 'sha256:idA' } as LiveContainer;
    const idx = imageIndex([{ ...aLocal, repoTags: [IMG] }]);
    const moved = decideImage(spec('always'), idx, true, inputs({ remote: new Map([[IMG, B]]), pins: { 'v1:def': pin } }), current);
    expect(moved.moved).toBe(`tag moved: ${IMG} now names sha256:bbbbbbbbbbbb… (running sha256:aaaaaaaaaaaa…)`);
    expect(moved.image.pullRef).toBe(IMG);
    const kept = decideImage(spec('missing'), idx, true, inputs({ remote: new Map([[IMG, B]]) }), current);
    expect(kept.moved).toBeNull();
    expect(kept.warnings[0]).toContain('pull_policy missing keeps the image on the host');
  });

  it('registry down: a warning, and the local image is used', () => {
    const d = decideImage(spec('always'), imageIndex([{ ...aLocal, repoTags: [IMG] }]), true, inputs({ remoteErrors: new Map([[IMG, 'registry r.io: connection refused']]) }));
    expect(d.image.pullRef).toBeNull();
    expect(d.warnings[0]).toContain('planned with the images on the host');
  });

  it('missing image: pulled by tag; never: error', () => {
    expect(decideImage(spec(), imageIndex([]), false, inputs()).image.pullRef).toBe(IMG);
    expect(decideImage(spec('never'), imageIndex([]), false, inputs()).errors[0]).toContain('pull_policy is never');
  });

  it('build: the container follows what the last build made; a new image is "rebuilt", never a pin, never a pull', () => {
    const built = 'berth.local/s-api:0123456789ab';
    const bspec = { ...spec('build'), image: built } as ServiceSpec;
    const idx = imageIndex([{ id: 'sha256:idB', repoTags: [built], repoDigests: [] }]);
    const rebuilt = decideImage(bspec, idx, true, inputs({ pins: { 'v1:def': pin } }), { imageId: 'sha256:idA' } as LiveContainer);
    expect(rebuilt.moved).toBe(`rebuilt: ${built} is now sha256:idB… (running sha256:idA…)`);
    expect(rebuilt.image).toEqual({ pullRef: null, run: built, digest: null, pinnedAt: null });
    const same = decideImage(bspec, idx, true, inputs(), { imageId: 'sha256:idB' } as LiveContainer);
    expect(same.moved).toBeNull();
    expect(same.image.pullRef).toBeNull();
  });
});
