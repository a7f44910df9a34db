import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** LOG_FORMAT: one JSON object a line (for log collectors), or lines a person reads (pino-pretty). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Query parameters that carry credentials: our gateway and supabase-js put tokens in the URL;
 * `endpoint` is a browser's push subscription (DELETE /api/push/subscriptions?endpoint=), a capability URL.
 */
const SECRET_PARAMS = new Set(['token', 'apikey', 'access_token', 'refresh_token', 'password', 'secret', 'endpoint']);
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

const field = (record: unknown, name: string): unknown => (typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[name] : undefined);

/** Pretty request lines: `[req-3] request completed GET /api/events 200 in 4 ms`; at debug, `[req-3] incoming request GET /api/events`. */
function requestInMessage(log: Record<string, unknown>, messageKey: string): string {
  const id = log.reqId === undefined ? '' : `[${String(log.reqId)}] `;
  const parts = [`${id}${String(log[messageKey] ?? '')}`];
  if (log.req !== undefined) parts.push(`${String(field(log.req, 'method'))} ${String(field(log.req, 'url'))}`);
  const status = field(log.res, 'statusCode');
  if (status !== undefined) parts.push(`${String(status)}${typeof log.responseTime === 'number' ? ` in ${Math.round(log.responseTime)} ms` : ''}`);
  return parts.join(' ');
}

export interface LoggerOptions {
  /** JSON lines by default. */
  format?: LogFormat;
  /** Standard output by default. */
  destination?: DestinationStream;
}

/**
 * The service's logger. Fastify logs each request's URL, so credentials in
 * query strings are censored there; objects logged with credentials under
 * the usual names are censored by pino's redaction (before either format
 * writes them). Pretty lines are written synchronously, so the last ones
 * before an exit are not lost.
 */
export function createLogger(level: string, { format = 'json', destination }: LoggerOptions = {}): Logger {
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
  if (format === 'pretty') {
    const stream = pretty({
      destination: destination ?? 1,
      sync: true,
      translateTime: 'SYS:HH:MM:ss',
      singleLine: true,
      messageFormat: requestInMessage,
      ignore: 'pid,hostname,reqId,req,res,responseTime',
    });
    return pino(options, stream);
  }
  return destination ? pino(options, destination) : pino(options);
}
