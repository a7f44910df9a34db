import { describe, expect, it } from 'vitest';
import { formatPrice } from '../src/format.ts';

// The digits a buyer reads; the symbol and the separators are their locale's.
const digits = (text: string) => text.replace(/\D/g, '');

describe('formatPrice', () => {
  it('shows an amount digit for digit, where going through a float would change it', () => {
    expect(formatPrice('0.30', 'EUR')).toContain('€');
    expect(digits(formatPrice('0.30', 'EUR'))).toBe('030');
    expect(digits(formatPrice('139.93', 'EUR'))).toBe('13993');
    // Number('90071992547409.93') is 90071992547409.94.
    expect(digits(formatPrice('90071992547409.93', 'EUR'))).toBe('9007199254740993');
  });

  it("keeps decimals the currency does not usually show, rather than rounding them away", () => {
    // Intl's default for yen would show ¥1,001.
    expect(digits(formatPrice('1000.50', 'JPY'))).toBe('10005');
    expect(digits(formatPrice('1000.00', 'JPY'))).toBe('1000');
  });

  it('shows what is not a decimal amount as it came', () => {
    expect(formatPrice('n/a', 'EUR')).toBe('n/a EUR');
  });
});
