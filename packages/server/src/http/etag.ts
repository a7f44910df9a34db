import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Conditional GET: sets the ETag (and `Cache-Control`, `no-cache` unless told: a
 * cache asks every time) and answers whether the client already has this version,
 * in which case the route answers 304 with no body.
 */
export function notModified(request: FastifyRequest, reply: FastifyReply, etag: string, cacheControl = 'no-cache'): boolean {
  reply.header('etag', etag).header('cache-control', cacheControl);
  const ifNoneMatch = request.headers['if-none-match'];
  // `*` matches any current representation (RFC 9110, 13.1.2): these routes always have one.
  return ifNoneMatch?.split(',').some((tag) => tag.trim() === '*' || tag.trim().replace(/^W\//, '') === etag) ?? false;
}
