import { describe, expect, it } from 'vitest';
import { priceFrom } from '../src/price-from.ts';

const type = (price: string) => ({ price, currency: 'EUR' });

describe('priceFrom', () => {
  it("shows the cheapest type's price, and a free event as free rather than from €0.00", () => {
    const paid = priceFrom([type('45.00'), type('20.00'), type('90.00')])!;
    expect([paid.startsWith('from '), paid.replace(/\D/g, '')]).toEqual([true, '2000']);
    expect(priceFrom([type('0.00'), type('0')])).toBe('Free');
    expect(priceFrom([type('0.00'), type('35.00')])).toBe('Free and paid tickets');
    expect(priceFrom([])).toBeNull();
  });
});
