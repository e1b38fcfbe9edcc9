import { rendezvousPick } from '../../streams/rendezvousHash';

const apps = Array.from({ length: 10_000 }, (_, i) => `app-${i}`);
const id = (r: string) => r;

function owners(routers: string[]): Map<string, string> {
  return new Map(apps.map(app => [app, rendezvousPick(app, routers, id) as string]));
}

describe('rendezvousPick', () => {
  it('always picks the same router for an app', () => {
    const routers = ['a:1', 'b:1', 'c:1'];
    expect(owners(routers)).toEqual(owners([...routers].reverse()));
  });

  it('spreads apps evenly', () => {
    const routers = ['10.0.0.1:3456', '10.0.0.2:3456', '10.0.0.3:3456', '10.0.0.4:3456'];
    const counts = new Map<string, number>();
    for (const owner of owners(routers).values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    for (const r of routers) expect(counts.get(r)).toBeGreaterThan(2_000); // 2,500 each when perfectly even
  });

  it('moves only the apps of a router that leaves, and about 1/N when one joins', () => {
    const three = ['r1:1', 'r2:1', 'r3:1'];
    const before = owners(three);
    const after = owners(['r1:1', 'r3:1']);
    for (const app of apps) if (before.get(app) !== 'r2:1') expect(after.get(app)).toBe(before.get(app));

    const four = owners([...three, 'r4:1']);
    const moved = apps.filter(app => four.get(app) !== before.get(app));
    expect(moved.every(app => four.get(app) === 'r4:1')).toBe(true);
    expect(moved.length / apps.length).toBeGreaterThan(0.2);
    expect(moved.length / apps.length).toBeLessThan(0.3); // 1/4 expected
  });

  it('has no owner without routers', () => {
    expect(rendezvousPick('app', [], id)).toBeUndefined();
  });
});
