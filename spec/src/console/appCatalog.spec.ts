// The apps the firehose view's app filter offers: those seen, sorted, at most 500.
import { AppCatalog, MAX_APPS } from '../../../src/console/appCatalog';

describe('AppCatalog', () => {
  it('offers each app seen once, sorted as numbers where they hold numbers, and says when it changed', () => {
    const catalog = new AppCatalog();
    for (const app of ['app-10', 'app-2', 'firehose', 'app-2', 'app-1']) catalog.add(app);
    expect(catalog.choices()).toEqual(['app-1', 'app-2', 'app-10', 'firehose']);
    expect(catalog.version).toBe(4);
    expect(catalog.full).toBe(false);
  });

  it('stops growing at 500 apps, and says some were left out', () => {
    const catalog = new AppCatalog();
    for (let i = 0; i < 2 * MAX_APPS; i++) catalog.add(`app-${i}`);
    expect(MAX_APPS).toBe(500);
    expect(catalog.choices()).toHaveLength(500);
    expect(catalog.full).toBe(true);
    catalog.add('app-0'); // one it has: still offered
    expect(catalog.choices()[0]).toBe('app-0');
  });
});
