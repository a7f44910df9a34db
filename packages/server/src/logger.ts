import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Query parameters that carry credentials: our gateway and supabase-js put tokens in the URL. */
const SECRET_PARAMS = new Set(['token', 'apikey', 'access_token', 'refresh_token', 'password', 'secret']);
const CENSOR = '[REDACTED]';

/** The URL with the values of credential parameters replaced, everything else as it was. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0]!;
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape: judged as written.
      }
      return SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=${CENSOR}` : pair;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
}

/**
 * The service's logger. Fastify logs each request's URL, so credentials in
 * query strings are censored there; objects logged with credentials under
 * the usual names are censored by pino's redaction.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.apikey',
        'headers.authorization',
        'headers.apikey',
        '*.token',
        '*.apikey',
        '*.access_token',
        '*.password',
        '*.jwtSecret',
        '*.databaseUrl',
        '*.connectionString',
      ],
      censor: CENSOR,
    },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
