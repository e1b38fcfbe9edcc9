// shardOf: the worker of a multi-worker router that owns an app, stable for the app and spread
// evenly over the workers.
import { shardOf } from '../../streams/appShard';

describe('shardOf', () => {
  it('is 0 with one worker, and always the same worker for an app', () => {
    expect(shardOf('any-app', 1)).toBe(0);
    expect(shardOf('app-7', 4)).toBe(shardOf('app-7', 4));
  });

  it('spreads apps evenly over the workers (10,000 apps within 10% of an even share)', () => {
    for (const workers of [2, 3, 8]) {
      const counts = new Array<number>(workers).fill(0);
      for (let i = 0; i < 10_000; i++) counts[shardOf(`5f0c3b1e-${i}-4c1f-8f0e-2b6d1a9c7e43`, workers)]++;
      for (const c of counts) expect(Math.abs(c - 10_000 / workers)).toBeLessThan(0.1 * (10_000 / workers));
    }
  });
});
