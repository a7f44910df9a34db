import { createHmac, type webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { hmacKey } from '../auth/hmac-key.ts';

/** What a pass says: this user may start buying at this event until expiresAt. */
export interface PassClaims {
  eventId: string;
  holderId: string;
  entryId: string;
  admittedAt: Date;
  expiresAt: Date;
}

export type PassCheck = { valid: true; pass: PassClaims } | { valid: false; reason: 'queue_pass_invalid' | 'queue_pass_expired' };

const ALGORITHM = 'HS256';
const AUDIENCE = 'ticketpulse:queue-pass';
const claims = z.object({ sub: z.string().min(1), evt: z.string().min(1), jti: z.string().min(1), iat: z.number(), exp: z.number() });

/**
 * Queue passes as signed tokens (JWT, HS256, `aud` ticketpulse:queue-pass),
 * bound to one event (`evt`) and one user (`sub`), so that an edge or another
 * service holding the key can check them without the database. Their key is
 * derived from TICKETPULSE_JWT_SECRET for this one purpose: a pass is never
 * an access token, nor an access token a pass. The hold route does not rely
 * on them: it checks the holder's entry by the access token's `sub`
 * (queue_hold_refusals, db/repeatable/70_waiting_room.sql); a pass sent with
 * a hold is checked as well and refused when forged, wrongly signed, for
 * someone else or another event, or expired.
 */
export class QueuePasses {
  /** Imported once (hmacKey): every admitted entry read signs its pass. */
  private readonly key: Promise<webcrypto.CryptoKey>;

  constructor(jwtSecret: string) {
    this.key = hmacKey(createHmac('sha256', jwtSecret).update('ticketpulse queue pass v1').digest());
  }

  async sign(pass: PassClaims): Promise<string> {
    return new SignJWT({ evt: pass.eventId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setAudience(AUDIENCE)
      .setSubject(pass.holderId)
      .setJti(pass.entryId)
      .setIssuedAt(Math.floor(pass.admittedAt.getTime() / 1000))
      .setExpirationTime(Math.floor(pass.expiresAt.getTime() / 1000))
      .sign(await this.key);
  }

  /**
   * Valid only if signed with this key, unexpired, and for this event and
   * this user. Someone else's pass (or another event's) is invalid here
   * whether or not it has expired: "expired" would tell the caller to rejoin
   * for a pass that was never theirs.
   */
  async check(token: string, expected: { eventId: string; holderId: string }): Promise<PassCheck> {
    try {
      const { payload } = await jwtVerify(token, await this.key, { algorithms: [ALGORITHM], audience: AUDIENCE, requiredClaims: ['exp', 'sub', 'jti'] });
      const pass = passFor(payload, expected);
      return pass ? { valid: true, pass } : { valid: false, reason: 'queue_pass_invalid' };
    } catch (error) {
      // Thrown once the signature and audience held: its payload is genuine.
      const expired = error instanceof joseErrors.JWTExpired && passFor(error.payload, expected) !== undefined;
      return { valid: false, reason: expired ? 'queue_pass_expired' : 'queue_pass_invalid' };
    }
  }
}

/** The pass a genuine payload states, if it is for this event and this user. */
function passFor(payload: unknown, expected: { eventId: string; holderId: string }): PassClaims | undefined {
  const parsed = claims.safeParse(payload);
  if (!parsed.success || parsed.data.evt !== expected.eventId || parsed.data.sub !== expected.holderId) return undefined;
  const { sub, evt, jti, iat, exp } = parsed.data;
  return { eventId: evt, holderId: sub, entryId: jti, admittedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
}
