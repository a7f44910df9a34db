/**
 * Text PostgreSQL cannot store as written: NUL (a text value cannot hold
 * it: the statement fails), and UTF-16 surrogates not in a pair (sent as
 * U+FFFD, so two different strings become one in the database). With the
 * `u` flag, a pair is one code point and does not match.
 */
const NOT_STORABLE = /[\u0000\ud800-\udfff]/u;

/** Whether text from a client can be stored and read back as it came: refused at the edge otherwise. */
export function isStorableText(text: string): boolean {
  return !NOT_STORABLE.test(text);
}

export const NOT_STORABLE_MESSAGE = 'must be well-formed text without NUL';
