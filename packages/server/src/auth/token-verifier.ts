import { createSecretKey, randomUUID, type KeyObject, type webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { ApiError } from '../api-error.ts';
import { isStorableText } from '../storable-text.ts';
import { hmacKey } from './hmac-key.ts';
import { JwtRejected, verifyHs256 } from './hs256.ts';
import { role as roleSchema, type Principal, type Role } from './principal.ts';

const claims = z.object({
  sub: z
    .string()
    .min(1)
    .max(200)
    // A `sub` is a holder id in every query: "\ud800" and "\udc00" would be one user in the database and two here.
    .refine(isStorableText)
    .optional(),
  role: roleSchema,
});

const ALGORITHM = 'HS256';
const REQUIRED_CLAIMS = ['exp', 'role'];
/** Tokens remembered as verified: a buyer's few requests in a row, for this many buyers at once; a few MB at most. */
const VERIFIED_TOKENS = 10_000;

export class TokenVerifier {
  /** For signing with jose: imported once (hmacKey). */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /** For verifying (verifyHs256). */
  private readonly secretKey: KeyObject;
  /**
   * Principals of tokens that verified, by the exact token string, oldest
   * first. The same bytes under the same secret verify the same way until
   * `exp` (checked on every use; `nbf` was already past), so a buyer's next
   * request skips the HMAC and the JSON parsing: about a tenth of a hold's CPU
   * over HTTP that verifying took. Refused tokens are never remembered.
   */
  private readonly verified = new Map<string, Principal>();

  constructor(
    secret: string,
    /** ms since the epoch; tests move it. */
    private readonly now: () => number = Date.now,
  ) {
    const bytes = new TextEncoder().encode(secret);
    this.key = hmacKey(bytes);
    this.secretKey = createSecretKey(bytes);
  }

  /** Verifies signature, `exp` and claims; throws ApiError 401 otherwise. */
  async verify(token: string): Promise<Principal> {
    const now = this.now();
    const known = this.verified.get(token);
    // verifyHs256 refuses once `exp` (whole seconds) is not after now: the same instant as expiresAt (ms).
    if (known !== undefined && now < known.expiresAt) return known;
    if (known !== undefined) this.verified.delete(token);
    let payload: Record<string, unknown>;
    try {
      payload = verifyHs256(token, this.secretKey, REQUIRED_CLAIMS, now);
    } catch (error) {
      if (error instanceof JwtRejected && error.expired) throw new ApiError(401, 'token_expired', 'Token has expired');
      throw new ApiError(401, 'invalid_token', 'Token is invalid');
    }
    const parsed = claims.safeParse(payload);
    if (!parsed.success) {
      const subject = parsed.error.issues.some((issue) => issue.path[0] === 'sub');
      throw new ApiError(
        401,
        'invalid_token',
        subject
          ? 'Token claims are invalid: `sub` must be 1 to 200 characters of well-formed text without NUL'
          : 'Token claims are invalid: `role` must be anon, authenticated, organizer or service',
      );
    }
    const principal: Principal = Object.freeze({ userId: parsed.data.sub, role: parsed.data.role, expiresAt: (payload.exp as number) * 1000 });
    if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, principal);
    return principal;
  }

  /** Mints a token (dev tokens and tests). */
  async sign(principal: { userId?: string; role: Role }, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const jwt = new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: ALGORITHM })
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000));
    if (principal.userId) jwt.setSubject(principal.userId);
    return { token: await jwt.sign(await this.key), expiresAt };
  }

  /** A token for a fresh user id. */
  async signForNewUser(role: Role, ttlSeconds: number) {
    const userId = randomUUID();
    return { userId, role, ...(await this.sign({ userId, role }, ttlSeconds)) };
  }
}
