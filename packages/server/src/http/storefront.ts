import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Paths the service answers itself; the storefront never shadows them, not even their unknown sub-paths. */
const SERVER_PATHS = /^\/(api|realtime|metrics|healthz|readyz)(\/|$)/;
/** Vite names assets by content hash, so a cached copy can never be stale. */
const ASSET_MAX_AGE_MS = 365 * 86_400_000;

/** Whether `root` holds a built storefront to serve. */
export const hasStorefront = (root: string | undefined): root is string => root !== undefined && existsSync(join(root, 'index.html'));

/**
 * Navigations (Accept: text/html, or anything) to paths that do not look like
 * files: the single-page app's routes, which only index.html can render.
 */
function isNavigation(request: FastifyRequest, path: string): boolean {
  const accept = request.headers.accept ?? '*/*';
  const lastSegment = path.slice(path.lastIndexOf('/') + 1);
  return !lastSegment.includes('.') && (accept.includes('text/html') || accept.includes('*/*'));
}

/**
 * Serves the built storefront: /assets/* with immutable caching, other files
 * at the top of the folder, and index.html for every other GET navigation
 * (client-side routing). Unknown files and server paths keep the JSON 404.
 */
export async function serveStorefront(app: FastifyInstance, root: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    dotfiles: 'ignore',
    maxAge: ASSET_MAX_AGE_MS,
    immutable: true,
  });
  app.get<{ Params: { '*': string } }>('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (SERVER_PATHS.test(path)) return reply.callNotFound();
    // index.html names the current assets, so it is always revalidated.
    if (isNavigation(request, path)) return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
    return reply.sendFile(request.params['*'], root);
  });
}
