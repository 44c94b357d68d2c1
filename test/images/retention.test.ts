import { describe, expect, it } from 'vitest';
import { EMPTY_IMAGE_LEDGER, imagesToPrune, recordApplied } from '../../src/images/retention.js';

describe('image retention', () => {
  it('keeps the images of the last N revisions and anything a container uses; prunes only what berth pulled', () => {
    let l = EMPTY_IMAGE_LEDGER;
    for (let i = 1; i <= 7; i++) l = recordApplied(l, `rev${i}`, [`acme/app:r${i}`, 'redis:7'], [`acme/app:r${i}`], 5);
    expect(l.revisions.map((r) => r.revision)).toEqual(['rev3', 'rev4', 'rev5', 'rev6', 'rev7']);
    expect(l.pulled).toContain('acme/app:r1');
    // redis:7 was never pulled by berth: never a candidate.
    expect(imagesToPrune(l, 5, [])).toEqual(['acme/app:r1', 'acme/app:r2']);
    // A stopped container still using r1 keeps it.
    expect(imagesToPrune(l, 5, ['acme/app:r1'])).toEqual(['acme/app:r2']);
    expect(imagesToPrune(l, 5, ['docker.io/acme/app:r2', 'acme/app:r1'])).toEqual([]);
  });

  it('spells images one way (docker.io/library/x, x:latest)', () => {
    const l = recordApplied(EMPTY_IMAGE_LEDGER, 'a', ['docker.io/library/nginx'], ['nginx'], 5);
    expect(l.revisions[0]!.images).toEqual(['nginx:latest']);
    expect(l.pulled).toEqual(['nginx:latest']);
    expect(imagesToPrune(l, 5, [])).toEqual([]);
  });

  it('re-applying a revision moves it to the newest slot instead of duplicating it', () => {
    let l = recordApplied(EMPTY_IMAGE_LEDGER, 'a', ['x:1'], [], 2);
    l = recordApplied(l, 'b', ['x:2'], [], 2);
    l = recordApplied(l, 'a', ['x:1'], [], 2);
    expect(l.revisions.map((r) => r.revision)).toEqual(['b', 'a']);
  });
});
