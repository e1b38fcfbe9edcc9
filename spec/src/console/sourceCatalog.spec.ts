// The sources the source filter offers: each type, then its instances, in natural order; bounded.
import { SourceCatalog } from '../../../src/console/sourceCatalog';
import { TailLine } from '../../../src/console/tailLine';

const from = (sourceType: string, sourceInstance: string): TailLine => ({ appId: 'a', sourceType, sourceInstance, messageType: 'OUT', timestamp: '1', message: 'm' });

describe('SourceCatalog', () => {
  it('offers each type followed by its instances, sorted as numbers where they are numbers', () => {
    const catalog = new SourceCatalog();
    for (const [type, instance] of [['RTR', '1'], ['APP', '10'], ['APP', '2'], ['APP', '2'], ['RTR', '0']]) catalog.add(from(type, instance));
    expect(catalog.choices()).toEqual(['APP', 'APP/2', 'APP/10', 'RTR', 'RTR/0', 'RTR/1']);
    expect(catalog.version).toBe(4);
  });

  it('stops growing past 200 sources', () => {
    const catalog = new SourceCatalog();
    for (let i = 0; i < 1000; i++) catalog.add(from('APP', String(i)));
    expect(catalog.choices()).toHaveLength(201);
  });
});
