import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, withAdmin } from '../../../packages/server/test/support/database.ts';
import { startNode, type RunningNode } from '../../../packages/server/test/support/process.ts';
import { schemaUrl } from '../../../packages/server/test/support/schema-url.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STOREFRONT = fileURLToPath(new URL('../', import.meta.url));

/**
 * The shop's side of Web Push in Chromium (docs/storefront.md, "Web Push").
 * Chromium cannot reach a real push service here, so the push itself is
 * dispatched to the service worker by the test (CDP ServiceWorker.deliverPushMessage);
 * the server's side is packages/server/test/push.test.ts.
 */
describe.skipIf(!existsSync(CHROMIUM))('Web Push in the shop', () => {
  let browser: Browser;
  let node: RunningNode;
  let context: BrowserContext;
  let dist: string;
  const schema = `e2e_push_${randomBytes(4).toString('hex')}`;

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${node.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return (await response.json()) as any;
  };
  const token = async (role: string) =>
    ((await (await fetch(`${node.url}/api/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role }) })).json()) as { token: string }).token;

  /** A new event whose one ticket type (one seat) someone else holds: sold out, its waiting list on. */
  const soldOut = async (eventName: string, typeName: string) => {
    const slug = `push-${randomBytes(4).toString('hex')}`;
    const created = await call('POST', '/api/events', await token('organizer'), {
      slug,
      name: eventName,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      ticketTypes: [{ name: typeName, totalCapacity: 1, price: '10.00', maxPerOrder: 4 }],
    });
    const typeId = created.event.ticketTypes[0].id as string;
    await call('POST', `/api/events/${created.event.id}/reservations`, await token('authenticated'), { items: [{ ticketTypeId: typeId, quantity: 1 }] });
    return { slug, created, typeId };
  };

  beforeAll(async () => {
    // A build of its own: e2e.test.ts rebuilds apps/storefront/dist meanwhile, and this one serves public/sw.js.
    dist = await mkdtemp(join(tmpdir(), 'tp-e2e-push-dist-'));
    const built = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: STOREFRONT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`storefront build failed:\n${built.stdout}\n${built.stderr}`);
    const env: Record<string, string> = { TICKETPULSE_JWT_SECRET: 'e2e-push-secret-that-is-long-enough-for-hs256', TICKETPULSE_STOREFRONT_DIR: dist };
    if (postgresUrl) {
      await withAdmin((c) => c.query(`CREATE SCHEMA ${schema}`));
      env.DATABASE_URL = schemaUrl(schema);
    } else {
      env.TICKETPULSE_DATA_DIR = await mkdtemp(join(tmpdir(), 'tp-e2e-push-'));
    }
    node = await startNode(env, ['--demo']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-component-update', '--no-first-run'],
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await node?.stop();
    if (postgresUrl) await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    await rm(dist, { recursive: true, force: true });
  });

  it('"Notify me" registers the service worker with permission granted, and a push becomes a notification that names the offer', async () => {
    const { slug, created, typeId } = await soldOut('Push Night', 'Front Row');

    context = await browser.newContext({ locale: 'en-US' });
    await context.grantPermissions(['notifications'], { origin: node.url });
    const page = await context.newPage();
    await page.goto(`${node.url}/events/${slug}`);
    const row = page.locator('[data-ticket-type="Front Row"]');
    await row.getByText('Sold out').waitFor();
    // Nothing is registered before the buyer asks to be told something.
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);

    const cdp = await context.newCDPSession(page);
    const registrationId = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
        const active = versions.find((version) => version.scriptURL.endsWith('/sw.js') && version.status === 'activated');
        if (active) resolve(active.registrationId);
      }),
    );
    await cdp.send('ServiceWorker.enable');
    await row.getByRole('button', { name: 'Notify me' }).click();

    const worker = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return { permission: Notification.permission, scope: registration.scope, script: registration.active?.scriptURL };
    });
    expect(worker).toEqual({ permission: 'granted', scope: `${node.url}/`, script: `${node.url}/sw.js` });

    const message = {
      id: 'n42',
      kind: 'offer',
      eventId: created.event.id,
      eventName: 'Push Night',
      ticketTypeId: typeId,
      ticketTypeName: 'Front Row',
      reservationId: '00000000-0000-4000-8000-000000000001',
      quantity: 2,
      expiresAt: new Date(Date.now() + 900_000).toISOString(),
      url: `/events/${slug}`,
    };
    const origin = node.url;
    // Twice, as after a sender's crash: one notification.
    for (let i = 0; i < 2; i++) await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: await registrationId, data: JSON.stringify(message) });

    const shown = async () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: (n.data as { url: string }).url })),
      );
    await expect.poll(shown, { timeout: 5000 }).toHaveLength(1);
    expect((await shown())[0]).toEqual({
      title: 'Tickets held for you: 2 × Front Row',
      body: expect.stringMatching(/^Push Night: buy them before .+, or they go to the next in line\.$/),
      tag: 'ticketpulse-n42',
      url: `/events/${slug}`,
    });
  }, 60_000);

  it("joining a waiting list registers the shop's service worker and subscribes for push with the service's key, permission granted by the test", async () => {
    const { slug } = await soldOut('Waiting Night', 'Balcony');

    const joining = await browser.newContext({ locale: 'en-US' });
    try {
      await joining.grantPermissions(['notifications'], { origin: node.url });
      const page = await joining.newPage();
      // Watches (and passes on) the shop's call to the browser's real PushManager.subscribe: what it asked, and how it ended.
      await page.addInitScript(() => {
        const calls: Array<{ userVisibleOnly: boolean | undefined; key: string; outcome: string }> = [];
        (globalThis as unknown as { subscribeCalls: typeof calls }).subscribeCalls = calls;
        const subscribe = PushManager.prototype.subscribe;
        PushManager.prototype.subscribe = function (this: PushManager, options?: PushSubscriptionOptionsInit) {
          const bytes = options?.applicationServerKey instanceof Uint8Array ? options.applicationServerKey : new Uint8Array(0);
          const key = btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(''));
          const attempt = { userVisibleOnly: options?.userVisibleOnly, key: key.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), outcome: 'pending' };
          calls.push(attempt);
          return subscribe.call(this, options).then(
            (subscription) => ((attempt.outcome = 'subscribed'), subscription),
            (error: Error) => {
              attempt.outcome = `${error.name}: ${error.message}`;
              throw error;
            },
          );
        };
      });
      const pushCalls: string[] = [];
      page.on('request', (request) => {
        const { pathname } = new URL(request.url());
        if (pathname.startsWith('/api/push/')) pushCalls.push(`${request.method()} ${pathname}`);
      });
      await page.goto(`${node.url}/events/${slug}`);
      const list = page.locator('[data-waitlist-for="Balcony"]');
      await list.getByRole('button', { name: 'Join the waiting list' }).waitFor();
      expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);

      await list.getByRole('button', { name: 'Join the waiting list' }).click();
      await list.locator('[data-waitlist="waiting"]').waitFor();

      // The shop's worker, registered for the whole shop, in the click that joined.
      const worker = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.ready;
        return { permission: Notification.permission, scope: registration.scope, script: registration.active?.scriptURL };
      });
      expect(worker).toEqual({ permission: 'granted', scope: `${node.url}/`, script: `${node.url}/sw.js` });

      // Then it subscribes through that worker, visibly, with the service's VAPID key.
      const subscribeCalls = () => page.evaluate(() => (globalThis as unknown as { subscribeCalls: Array<{ outcome: string }> }).subscribeCalls);
      await expect.poll(async () => (await subscribeCalls()).filter((done) => done.outcome !== 'pending').length, { timeout: 15_000 }).toBe(1);
      const [attempt] = await subscribeCalls();
      const { publicKey } = (await (await fetch(`${node.url}/api/push/vapid-public-key`)).json()) as { publicKey: string };
      expect(attempt).toMatchObject({ userVisibleOnly: true, key: publicKey });
      // What the browser answered decides the rest. Headless Chromium refuses every push subscription
      // ("AbortError: Registration failed - permission denied", notifications granted or not): the shop then
      // stores nothing and the list works the same. Where the browser subscribes, the subscription is stored for the buyer.
      const subscription = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription())?.toJSON() ?? null);
      if (attempt!.outcome === 'subscribed') {
        expect(subscription).toMatchObject({ endpoint: expect.stringMatching(/^https:\/\//), keys: { p256dh: expect.any(String), auth: expect.any(String) } });
        await expect.poll(() => pushCalls).toContain('POST /api/push/subscriptions');
      } else {
        expect(subscription).toBeNull();
        expect(pushCalls).toEqual(['GET /api/push/vapid-public-key']);
      }
    } finally {
      await joining.close();
    }
  }, 60_000);
});
