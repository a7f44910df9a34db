import type { FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../api-error.ts';
import { isPrivileged, type Principal } from '../auth/principal.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carried a valid bearer token. */
    principal: Principal | undefined;
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
  // One place for "this route needs a token": its OpenAPI `security`. Checked in
  // onRequest, so a caller without a token gets 401, never a 400 that shows the schema.
  app.addHook('onRoute', (route) => {
    if (needsBearer(route.schema?.security)) route.onRequest = [requireSignedIn, ...hookList(route.onRequest)];
  });
});

/** Required when every alternative names bearerAuth; an empty alternative (`{}`) would make the token optional. */
function needsBearer(security: unknown): boolean {
  return Array.isArray(security) && security.length > 0 && security.every((alternative) => typeof alternative === 'object' && alternative !== null && 'bearerAuth' in alternative);
}

function hookList(hooks: RouteOptions['onRequest']): onRequestHookHandler[] {
  if (hooks === undefined) return [];
  return (Array.isArray(hooks) ? hooks : [hooks]) as onRequestHookHandler[];
}

async function requireSignedIn(request: FastifyRequest): Promise<void> {
  requirePrincipal(request);
}

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
  if (!isPrivileged(requirePrincipal(request))) {
    throw new ApiError(403, 'forbidden', 'This needs the organizer or service role');
  }
}

export const bearerAuth = [{ bearerAuth: [] }];

