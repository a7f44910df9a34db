import type { TicketAvailability } from '@ticketpulse/client';
import { describe, expect, it } from 'vitest';
import { ranLow } from '../src/low-stock.ts';

type Row = Pick<TicketAvailability, 'ticketTypeId' | 'status'>;
const was = (...entries: Array<[string, Row['status']]>) => new Map(entries);
const now = (ticketTypeId: string, status: Row['status']): Row[] => [{ ticketTypeId, status }];

describe('ranLow: the low-stock toast follows the rows ("Only 3 left"), not a fixed 10 seats', () => {
  it('names a type whose status turns low_stock from available, whatever its seats left', () => {
    // A 6-seat type with the organizer's threshold at 3: 6 → 2 left never crossed 10, and is low now.
    expect(ranLow(was(['front', 'available']), now('front', 'low_stock'))).toEqual(now('front', 'low_stock'));
  });

  it('says nothing for a type still available (9 left above a threshold of 3), already low, or back from sold out', () => {
    expect(ranLow(was(['a', 'available']), now('a', 'available'))).toEqual([]);
    expect(ranLow(was(['a', 'low_stock']), now('a', 'low_stock'))).toEqual([]);
    expect(ranLow(was(['a', 'sold_out']), now('a', 'low_stock'))).toEqual([]);
  });

  it('says nothing on the first state seen (the baseline)', () => {
    expect(ranLow(was(), now('a', 'low_stock'))).toEqual([]);
  });
});
