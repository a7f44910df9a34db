import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { demoEvents, seedDemoEvents } from '../src/seed/demo-events.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';

describe.each(drivers)('seeding the demo (%s)', (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(driver);
  }, 60_000);
  afterAll(() => t.dispose());

  it('two nodes seeding one fresh database at once both succeed, and each demo event exists once', async () => {
    const slugs = demoEvents().map((e) => e.slug);
    const [first, second] = await Promise.all([seedDemoEvents(t.db, new Catalog(t.db)), seedDemoEvents(t.db, new Catalog(t.db))]);
    expect([...first, ...second].sort()).toEqual([...slugs].sort());
    const { rows } = await t.db.query<{ slug: string; n: number }>(
      'SELECT slug, count(*)::integer AS n FROM events WHERE slug = ANY($1) GROUP BY slug ORDER BY slug',
      [slugs],
    );
    expect(rows).toEqual([...slugs].sort().map((slug) => ({ slug, n: 1 })));
    expect(await seedDemoEvents(t.db, new Catalog(t.db))).toEqual([]);
  });
});
