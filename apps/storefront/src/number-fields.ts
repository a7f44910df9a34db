/**
 * The refusal for a number field of a `noValidate` form that holds text
 * which is not a number ("1e", "5-"), or null. The browser reports such a
 * field's value as "", the value of an empty field, and an empty cap means
 * "no cap": read as is, a typo would lift the limit. (A form the browser
 * validates never submits with such a field.)
 */
export function notANumber(form: HTMLFormElement): string | null {
  for (const field of Array.from(form.elements)) {
    if (field instanceof HTMLInputElement && field.validity.badInput) {
      return `${field.labels?.[0]?.textContent?.trim() || 'A number field'}: that is not a number.`;
    }
  }
  return null;
}

/** A field's text as a whole number from `min` to `max` (the API's bounds), or undefined: blank, not whole, or out of range. */
export function wholeNumber(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== '' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}
