import { describe, expect, it } from 'vitest';
import { defaultDashboardEvent } from '../src/dashboard-default.ts';
import type { EventStatus, EventSummary } from '../src/types.ts';

const event = (slug: string, status: EventStatus, soldCount: number | null, reservedCount: number | null): EventSummary => ({
  id: `id-${slug}`,
  slug,
  name: slug,
  description: null,
  venue: null,
  startsAt: '2030-01-01T20:00:00.000Z',
  isPublic: true,
  status,
  soldCount,
  reservedCount,
  availabilityVersion: 1,
  displayPrecision: 'exact',
  holdSeconds: null,
  waitlistEnabled: true,
});
const opensOn = (events: EventSummary[]) => defaultDashboardEvent(events)?.slug;

describe('the event the organizer dashboard opens on', () => {
  it('is the on-sale event with the most seats sold and held, whatever its place in the list', () => {
    expect(opensOn([event('quiet', 'on_sale', 10, 0), event('busy', 'on_sale', 30, 5), event('steady', 'on_sale', 20, 10)])).toBe('busy');
    // Held seats count: 20 sold + 25 held is busier than 40 sold.
    expect(opensOn([event('sold', 'on_sale', 40, 0), event('held', 'on_sale', 20, 25)])).toBe('held');
  });

  it('skips events that are not on sale, however many seats they sold', () => {
    expect(opensOn([event('over', 'ended', 900, 0), event('paused', 'paused', 500, 3), event('draft', 'draft', 0, 0), event('live', 'on_sale', 1, 0)])).toBe('live');
  });

  it('breaks a tie by the list order (start time, then name), including events with nothing sold yet', () => {
    expect(opensOn([event('first', 'on_sale', 5, 5), event('second', 'on_sale', 10, 0)])).toBe('first');
    expect(opensOn([event('fresh', 'on_sale', 0, 0), event('new', 'on_sale', 0, 0)])).toBe('fresh');
    expect(opensOn([event('banded', 'on_sale', null, null), event('new', 'on_sale', 0, 0)])).toBe('banded');
  });

  it('is the first event listed when none is on sale, and none when there are no events', () => {
    expect(opensOn([event('draft', 'draft', 0, 0), event('over', 'ended', 50, 0)])).toBe('draft');
    expect(opensOn([])).toBeUndefined();
  });
});
