import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Verifies an HS256 JWT synchronously with node:crypto, with the checks
 * jose's jwtVerify makes of one (algorithms ['HS256'], required claims), or
 * stricter. jose does the same HMAC through WebCrypto, a job handed to the
 * thread pool and a promise per token: a fifth of an HTTP join's CPU time.
 * Tokens are still minted (TokenVerifier.sign) and queue passes signed and
 * checked with jose.
 *
 * - three base64url parts, no padding;
 * - a protected header that is a JSON object with `alg` exactly HS256 and no
 *   `crit` (jose accepts only `crit: ["b64"]`; nobody here sends it);
 * - the signature, HMAC-SHA-256 of the first two parts with the key,
 *   compared in constant time;
 * - a payload that is a JSON object with every required claim; `iat`, `nbf`
 *   and `exp` numbers when present; `nbf` not after now and `exp` after now
 *   (whole seconds, no tolerance).
 */
export class JwtRejected extends Error {
  constructor(
    /** true for an `exp` in the past: the token was good once. */
    readonly expired: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'JwtRejected';
  }
}

const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const SIGNATURE_BYTES = 32;

function jsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(part, 'base64url')));
  } catch {
    throw new JwtRejected(false, `${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtRejected(false, `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function numericDate(payload: Record<string, unknown>, claim: string): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new JwtRejected(false, `"${claim}" must be a number`);
  return value;
}

/** The payload of a valid token; throws JwtRejected otherwise. `now`: ms since the epoch. */
export function verifyHs256(token: string, key: KeyObject, requiredClaims: readonly string[], now = Date.now()): Record<string, unknown> {
  const parts = COMPACT.exec(token);
  if (!parts) throw new JwtRejected(false, 'not a compact JWS');
  const [, header, body, signature] = parts as unknown as [string, string, string, string];
  const protectedHeader = jsonObject(header, 'header');
  if (protectedHeader.alg !== 'HS256') throw new JwtRejected(false, 'algorithm not allowed');
  if ('crit' in protectedHeader) throw new JwtRejected(false, 'critical header parameters are not supported');
  const presented = Buffer.from(signature, 'base64url');
  const expected = createHmac('sha256', key).update(`${header}.${body}`).digest();
  if (presented.length !== SIGNATURE_BYTES || !timingSafeEqual(presented, expected)) throw new JwtRejected(false, 'signature verification failed');

  const payload = jsonObject(body, 'payload');
  for (const claim of requiredClaims) {
    if (!Object.hasOwn(payload, claim)) throw new JwtRejected(false, `missing required "${claim}" claim`);
  }
  const seconds = Math.floor(now / 1000);
  numericDate(payload, 'iat');
  const nbf = numericDate(payload, 'nbf');
  if (nbf !== undefined && nbf > seconds) throw new JwtRejected(false, '"nbf" is in the future');
  const exp = numericDate(payload, 'exp');
  if (exp !== undefined && exp <= seconds) throw new JwtRejected(true, '"exp" has passed');
  return payload;
}
