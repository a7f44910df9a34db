import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify, type JWTPayload } from 'jose';
import { callNode, startNode, type RunningNode } from './process.ts';
import { schemaUrl } from './schema-url.ts';

/** One request the fake push service received. */
export interface ReceivedPush {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What the push service answers: a status, or nothing at all (the request hangs until the server closes). */
export type PushAnswer = number | 'hang';

/**
 * A browser vendor's push service on loopback: HTTPS with a self-signed
 * certificate for 127.0.0.1 (the service under test trusts it through
 * NODE_EXTRA_CA_CERTS=`caFile`, as the issue requires: no option turns TLS
 * checking off). It records every push and answers 201 unless told otherwise.
 */
export class FakePushService {
  readonly received: ReceivedPush[] = [];
  /** Answers per endpoint path, taken in order; then 201. */
  readonly answers = new Map<string, PushAnswer[]>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'push-service-'));
  readonly caFile = join(this.dir, 'cert.pem');
  private server: Server | undefined;
  /** host:port, for TICKETPULSE_PUSH_ENDPOINT_HOSTS. */
  host = '';

  async start(): Promise<void> {
    const keyFile = join(this.dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', this.caFile,
    ], { stdio: 'ignore' });
    this.server = createServer({ key: readFileSync(keyFile), cert: readFileSync(this.caFile) }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        // When it arrived, for the tests of backoff.
        this.received.push({ path, headers: { ...request.headers, 'x-received-at': String(Date.now()) }, body: Buffer.concat(chunks) });
        const answer = this.answers.get(path)?.shift() ?? 201;
        if (answer === 'hang') return;
        response.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** The pushes sent to one endpoint path. */
  to(path: string): ReceivedPush[] {
    return this.received.filter((push) => push.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A browser's side of a subscription: its own P-256 key pair and auth secret, and an endpoint on the fake push service. */
export class BrowserSubscription {
  private readonly ecdh = createECDH('prime256v1');
  readonly auth = randomBytes(16);
  readonly path = `/push/${randomBytes(8).toString('hex')}`;

  constructor(private readonly host: string) {
    this.ecdh.generateKeys();
  }

  get endpoint(): string {
    return `https://${this.host}${this.path}`;
  }

  /** What PushSubscription.toJSON() gives a page. */
  toJSON(): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } } {
    return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.auth.toString('base64url') } };
  }

  /**
   * Decrypts a push body as the browser would (RFC 8188 aes128gcm with the
   * RFC 8291 key derivation), written here from the RFCs so that it checks
   * the library rather than trusting it.
   */
  decrypt(body: Buffer): unknown {
    const salt = body.subarray(0, 16);
    const keyIdLength = body[20]!;
    const serverPublic = body.subarray(21, 21 + keyIdLength);
    const record = body.subarray(21 + keyIdLength);
    const shared = this.ecdh.computeSecret(serverPublic);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), this.ecdh.getPublicKey(), serverPublic]);
    const ikm = Buffer.from(hkdfSync('sha256', shared, this.auth, keyInfo, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // The last record ends with the delimiter 0x02, then zero padding.
    const end = padded.lastIndexOf(2);
    return JSON.parse(padded.subarray(0, end).toString('utf8'));
  }
}

/** Verifies a push's VAPID Authorization header (RFC 8292): `vapid t=<ES256 JWT>, k=<public key>`. */
export async function verifyVapid(push: ReceivedPush, expectedKey: string): Promise<JWTPayload> {
  const header = String(push.headers['authorization']);
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header);
  if (!match) throw new Error(`not a VAPID Authorization header: ${header}`);
  if (match[2] !== expectedKey) throw new Error('the push was signed with another key than the service publishes');
  const point = Buffer.from(match[2]!, 'base64url');
  const key = await importJWK(
    { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    'ES256',
  );
  const { payload } = await jwtVerify(match[1]!, key, { algorithms: ['ES256'] });
  return payload;
}

/** The JWT secret of every node startPushNode starts (several nodes must share one). */
export const PUSH_TEST_JWT_SECRET = 'push-test-secret-0123456789abcdef0123456789';

/**
 * A node of the service as its own process, in `schema`, sending pushes to
 * `pushService` (its host allowed, its certificate trusted the standard way)
 * every 100 ms with a 1 s send timeout; `env` adds or overrides. Demo mode by
 * default, for dev tokens; every node gets a data directory of its own.
 */
export function startPushNode(pushService: FakePushService, schema: string, env: Record<string, string> = {}, args = ['--demo']): Promise<RunningNode> {
  return startNode(
    {
      DATABASE_URL: schemaUrl(schema),
      TICKETPULSE_BUS: 'none',
      TICKETPULSE_JWT_SECRET: PUSH_TEST_JWT_SECRET,
      TICKETPULSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'push-node-')),
      TICKETPULSE_STOREFRONT_DIR: tmpdir(),
      TICKETPULSE_PUSH_ENDPOINT_HOSTS: pushService.host,
      TICKETPULSE_PUSH_INTERVAL_MS: '100',
      TICKETPULSE_PUSH_TIMEOUT_MS: '1000',
      TICKETPULSE_HTTP_WRITES_PER_MINUTE: '100000',
      TICKETPULSE_HTTP_HOLDS_PER_MINUTE: '100000',
      NODE_EXTRA_CA_CERTS: pushService.caFile,
      LOG_FORMAT: 'json',
      ...env,
    },
    args,
  );
}

/** An on-sale event `Push <slug>` with one type, General, of `capacity` seats (at most 4 per order), made through a node's API. */
export async function createPushEvent(on: RunningNode, organizerToken: string, capacity: number): Promise<{ slug: string; eventId: string; typeId: string }> {
  const slug = `push-${randomBytes(4).toString('hex')}`;
  const created = await callNode(on, 'POST', '/api/events', organizerToken, {
    slug,
    name: `Push ${slug}`,
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    ticketTypes: [{ name: 'General', totalCapacity: capacity, price: '10.00', maxPerOrder: 4 }],
  });
  if (created.status !== 201) throw new Error(`event not created: ${created.status} ${JSON.stringify(created.body)}`);
  return { slug, eventId: created.body.event.id, typeId: created.body.event.ticketTypes[0].id };
}
