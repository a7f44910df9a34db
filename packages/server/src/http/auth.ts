import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Audience } from '../inventory/catalog.ts';
import { ApiError } from './errors.ts';
import { role as roleSchema } from './schemas.ts';

export type Role = z.infer<typeof roleSchema>;

/** Who is calling, from a verified token. */
export interface Principal {
  /** The `sub` claim; absent on anonymous tokens that carry no user. */
  userId: string | undefined;
  role: Role;
  /** When the token expires (ms since epoch). */
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carried a valid bearer token. */
    principal: Principal | undefined;
  }
}

const claims = z.object({
  sub: z.string().min(1).max(200).optional(),
  role: roleSchema,
});

const ALGORITHM = 'HS256';

export class TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Verifies signature, `exp` and claims; throws ApiError 401 otherwise. */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: [ALGORITHM], requiredClaims: ['exp', 'role'] });
      const parsed = claims.safeParse(payload);
      if (!parsed.success) throw new ApiError(401, 'invalid_token', 'Token claims are invalid: `role` must be anon, authenticated, organizer or service');
      return { userId: parsed.data.sub, role: parsed.data.role, expiresAt: (payload.exp as number) * 1000 };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new ApiError(401, 'token_expired', 'Token has expired');
      throw new ApiError(401, 'invalid_token', 'Token is invalid');
    }
  }

  /** Mints a token (dev tokens and tests). */
  async sign(principal: { userId?: string; role: Role }, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const jwt = new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: ALGORITHM })
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000));
    if (principal.userId) jwt.setSubject(principal.userId);
    return { token: await jwt.sign(this.key), expiresAt };
  }

  /** A token for a fresh user id. */
  async signForNewUser(role: Role, ttlSeconds: number) {
    const userId = randomUUID();
    return { userId, role, ...(await this.sign({ userId, role }, ttlSeconds)) };
  }
}

/**
 * Reads `Authorization: Bearer <JWT>` on every request. No header means an
 * anonymous caller; a header with a bad token is refused outright, so a client
 * never silently loses its identity.
 */
export const authPlugin = fp<{ verifier: TokenVerifier }>(async (app, { verifier }) => {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) return;
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    if (!match) throw new ApiError(401, 'invalid_token', 'Authorization header must be "Bearer <token>"');
    request.principal = await verifier.verify(match[1]!);
  });
});

const PRIVILEGED: ReadonlySet<Role> = new Set(['organizer', 'service']);

export const isPrivileged = (principal: Principal | undefined): boolean =>
  principal !== undefined && PRIVILEGED.has(principal.role);

/** What this caller may see of events (see event_is_visible in 0004_views.sql). */
export const audienceOf = (principal: Principal | undefined): Audience => ({
  privileged: isPrivileged(principal),
  userId: principal?.userId,
});

function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'unauthorized', 'A bearer token is required');
  return request.principal;
}

/** The user who will hold seats: any token with a `sub`, `anon` included (guest checkout). */
export function requireHolder(request: FastifyRequest): string {
  const { userId } = requirePrincipal(request);
  if (!userId) throw new ApiError(403, 'holder_required', 'The token has no `sub`: holds need a user id');
  return userId;
}

/**
 * Whose reservations the caller may act on: their own (the holder id), or
 * everyone's (`undefined`) for the service role, with or without a `sub`.
 */
export function actingHolder(request: FastifyRequest): string | undefined {
  return requirePrincipal(request).role === 'service' ? undefined : requireHolder(request);
}

export async function requireOrganizer(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  if (!PRIVILEGED.has(requirePrincipal(request).role)) {
    throw new ApiError(403, 'forbidden', 'This needs the organizer or service role');
  }
}

export const bearerAuth = [{ bearerAuth: [] }];

