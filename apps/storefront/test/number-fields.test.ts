import { describe, expect, it } from 'vitest';
import { wholeNumber } from '../src/number-fields.ts';

describe('wholeNumber', () => {
  it('reads a whole number within the bounds, and nothing else', () => {
    expect(wholeNumber(' 42 ', 1, 100)).toBe(42);
    expect(wholeNumber('0', 0, 10)).toBe(0);
    for (const text of ['', '  ', '1.5', '101', '0', 'abc', '1e3']) expect(wholeNumber(text, 1, 100), text).toBeUndefined();
  });
});
