import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../../../packages/server/test/support/database.ts';
import { defaultDashboardEvent } from '../src/dashboard-default.ts';
import type { EventSummary } from '../src/types.ts';
import { startNode, type RunningNode } from '../../../packages/server/test/support/process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUTPUT = join(ROOT, 'test-output');

if (!hasChromium) {
  if (process.env.CI === 'true') throw new Error(`CI=true but no Chromium at ${CHROMIUM}: .ci/run installs it with apt-get install -y chromium`);
  console.log(`\nSkipping browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH).\n`);
}

/** The service as its own process, on PostgreSQL when the tests have one (so it can be killed hard), else on embedded PGlite. */
class Service {
  node: RunningNode | undefined;
  port = '0';
  private readonly env: Record<string, string>;

  constructor(env: Record<string, string>) {
    this.env = env;
  }

  get url(): string {
    return this.node!.url;
  }

  async start(): Promise<void> {
    this.node = await startNode({ ...this.env, PORT: this.port }, ['--demo']);
    this.port = new URL(this.node.url).port;
  }

  async kill(): Promise<void> {
    const node = this.node!;
    this.node = undefined;
    const exited = new Promise((resolve) => node.child.once('exit', resolve));
    // A hard kill needs a database that survives one; the embedded one gets a clean stop.
    node.child.kill(postgresUrl ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.node?.stop();
  }

  /** Calls the API as an organizer. */
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const token = (await (await fetch(`${this.url}/api/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"organizer"}' })).json()) as { token: string };
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json().catch(() => undefined) };
  }

  /** A fresh event, so each test owns its numbers. */
  async event(
    ticketTypes: Array<{ name: string; totalCapacity: number | null; maxPerOrder?: number; price?: string; currency?: string }>,
    holdSeconds?: number,
  ): Promise<string> {
    const slug = `e2e-${randomBytes(4).toString('hex')}`;
    const created = await this.api('POST', '/api/events', {
      slug,
      name: `E2E ${slug}`,
      startsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      ticketTypes: ticketTypes.map((t) => ({ price: '25.00', maxPerOrder: 4, ...t })),
      ...(holdSeconds ? { holdSeconds } : {}),
    });
    if (created.status !== 201) throw new Error(`could not create the event: ${JSON.stringify(created.json)}`);
    return slug;
  }
}

describe.skipIf(!hasChromium)('the storefront in a real browser', () => {
  let browser: Browser;
  let service: Service;
  let schema: string | undefined;
  const contexts: BrowserContext[] = [];

  const open = async (path: string): Promise<Page> => {
    // Amounts are formatted in the browser's locale: the tests read them in en-US.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${service.url}${path}`);
    return page;
  };
  const row = (page: Page, name: string) => page.locator(`[data-ticket-type="${name}"]`);
  /** Waits for a waiting-room page to show this place in line. */
  const place = (page: Page, position: string) => page.locator('[data-queue="position"]').getByText(position, { exact: true }).waitFor({ timeout: 20_000 });
  const hold = async (page: Page, name: string, quantity: number) => {
    await page.getByLabel(`Quantity for ${name}`).selectOption(String(quantity));
    await page.getByRole('button', { name: 'Hold tickets' }).click();
    await page.getByRole('timer').waitFor();
  };

  beforeAll(async () => {
    const built = spawnSync('npm', ['run', 'build:storefront'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`storefront build failed:\n${built.stdout}\n${built.stderr}`);
    await mkdir(OUTPUT, { recursive: true });
    const env: Record<string, string> = {
      TICKETPULSE_JWT_SECRET: 'e2e-secret-that-is-long-enough-for-hs256!!',
      TICKETPULSE_DEV_AUTH: '1',
      // Sales velocity within a second of a sale instead of five.
      TICKETPULSE_VELOCITY_REFRESH_MS: '1000',
    };
    if (postgresUrl) {
      schema = `e2e_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      env.DATABASE_URL = `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    } else {
      env.TICKETPULSE_DATA_DIR = await mkdtemp(join(tmpdir(), 'tp-e2e-'));
    }
    service = new Service(env);
    await service.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await service?.stop();
    if (schema) {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('a hold in one browser changes the count in another within 2 s, without a reload', async () => {
    const slug = await service.event([{ name: 'Standing', totalCapacity: 20 }]);
    const a = await open(`/events/${slug}`);
    const b = await open(`/events/${slug}`);
    await row(b, 'Standing').getByText('20 available').waitFor();
    await hold(a, 'Standing', 3);
    await row(b, 'Standing').getByText('17 available').waitFor({ timeout: 2000 });
    await a.screenshot({ path: join(OUTPUT, 'event-page.png'), fullPage: true });
  });

  it("buying the last seat in one browser sells the type out in the other, with a toast", async () => {
    const slug = await service.event([
      { name: 'Front Row', totalCapacity: 1 },
      { name: 'Balcony', totalCapacity: 50 },
    ]);
    const a = await open(`/events/${slug}`);
    const b = await open(`/events/${slug}`);
    await row(b, 'Front Row').getByText('Only 1 left').waitFor();
    await hold(a, 'Front Row', 1);
    await a.getByRole('button', { name: 'Buy now' }).click();
    await a.getByText('Purchase complete').waitFor({ timeout: 10_000 });
    await row(b, 'Front Row').getByText('Sold out').waitFor({ timeout: 2000 });
    await b.getByTestId('toasts').getByText('Front Row is now sold out').waitFor({ timeout: 2000 });
    expect(await b.getByLabel('Quantity for Front Row').isDisabled()).toBe(true);
  });

  it('an offer from a waiting list shows in the header at once, with its countdown and the event to buy it on', async () => {
    const slug = await service.event([{ name: 'Front Row', totalCapacity: 2, maxPerOrder: 2 }]);
    const { json } = await service.api('GET', `/api/events/${slug}`);
    const eventId: string = json.event.id;
    const frontRow: string = json.event.ticketTypes[0].id;
    const page = await open('/');
    // This browser's buyer (the shop keeps the token in localStorage; its personal feed minted it).
    await page.waitForFunction(() => localStorage.getItem('ticketpulse.buyer') !== null);
    const buyer: string = await page.evaluate(() => (JSON.parse(localStorage.getItem('ticketpulse.buyer')!) as { token: string }).token);
    const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) };
      const response = await fetch(`${service.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, json: (await response.json()) as any };
    };
    const someoneElse: string = (await call(undefined, 'POST', '/api/auth/dev-token', { role: 'authenticated' })).json.token;
    const theirs = await call(someoneElse, 'POST', `/api/events/${slug}/reservations`, { items: [{ ticketTypeId: frontRow, quantity: 2 }] });
    expect(theirs.status).toBe(201);
    const joined = await call(buyer, 'POST', `/api/event-tickets/${frontRow}/waitlist`, { quantity: 2 });
    expect([joined.status, joined.json.entry?.status]).toEqual([201, 'waiting']);
    expect(await page.getByTestId('offer-banner').count()).toBe(0);

    expect((await call(someoneElse, 'DELETE', `/api/reservations/${theirs.json.reservation.id}`)).status).toBe(200);
    const banner = page.getByTestId('offer-banner');
    await banner.getByText('2 seats of Front Row').waitFor({ timeout: 2000 });
    const first = await banner.getByRole('timer').textContent();
    expect(first).toMatch(/^1[45]:\d\d$/); // offerSeconds: 900 by default
    await page.waitForFunction((shown) => document.querySelector('.offer-banner__time')?.textContent !== shown, first, { timeout: 3000 });
    expect(await banner.getByRole('link', { name: 'Buy them' }).getAttribute('href')).toBe(`/events/${eventId}`);
  });
  it('a fresh visitor sees "selling fast" and "likely to sell out in about N minutes" from the server at once; the dashboard shows the rates', async () => {
    const slug = await service.event([{ name: 'Terrace', totalCapacity: 40 }]);
    const { json } = await service.api('GET', `/api/events/${slug}`);
    const terrace = (json as { event: { ticketTypes: Array<{ id: string }> } }).event.ticketTypes[0]!.id;
    // 12 seats bought in three checkouts, before anyone opens the page: 2.4 a minute, 28 left, about 12 minutes.
    const buyer = ((await (await fetch(`${service.url}/api/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"authenticated"}' })).json()) as { token: string }).token;
    const asBuyer = (path: string, body?: unknown) =>
      fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    for (let i = 0; i < 3; i += 1) {
      const held = (await (await asBuyer(`/api/events/${slug}/reservations`, { items: [{ ticketTypeId: terrace, quantity: 4 }] })).json()) as { reservation: { id: string } };
      expect((await asBuyer(`/api/reservations/${held.reservation.id}/confirm`)).status).toBe(200);
    }
    await expect
      .poll(async () => ((await service.api('GET', `/api/events/${slug}/availability`)).json as { tickets: Array<{ likelyToSellOut: boolean }> }).tickets[0]!.likelyToSellOut, { timeout: 10_000 })
      .toBe(true);

    const page = await open(`/events/${slug}`);
    await row(page, 'Terrace').getByText(/^Likely to sell out in about 1[12] minutes$/).waitFor({ timeout: 5000 });
    await row(page, 'Terrace').getByText('Selling fast').waitFor();
    await page.getByTestId('sold-per-minute').getByText('2.4 tickets a minute over the last 5 minutes').waitFor();
    // Figures that change with every sale are shown, not read out: a screen reader would hear nothing else.
    const announced = (p: Page) => p.locator('[aria-live="polite"], [aria-live="assertive"]').allInnerTexts().then((texts) => texts.join(' | '));
    expect(await announced(page)).not.toMatch(/a minute|\d+ available/);

    const dashboard = await open(`/organizer?event=${slug}`);
    await dashboard.getByRole('button', { name: 'Sign in as organizer (dev)' }).click();
    await row(dashboard, 'Terrace').locator('[data-col="velocity"]').getByText('2.4 · 0.8').waitFor();
    expect(await row(dashboard, 'Terrace').locator('[data-col="sell-out"]').innerText()).toMatch(/\(in ~1[12] min\)$/);
    await dashboard.getByText(/12 seats sold in the last/).waitFor();
    expect(await announced(dashboard)).not.toContain('sold in the last');
  }, 60_000);

  it("shows the server's exact totals, one per currency, and no float sum before the hold", async () => {
    const slug = await service.event([
      { name: 'Coffee', price: '0.10', totalCapacity: 50, maxPerOrder: 10 },
      { name: 'Dinner', price: '19.99', totalCapacity: 50, maxPerOrder: 10 },
      { name: 'Parking', price: '0.70', currency: 'USD', totalCapacity: 50, maxPerOrder: 10 },
    ]);
    const page = await open(`/events/${slug}`);
    for (const [name, quantity] of [['Coffee', 3], ['Dinner', 7], ['Parking', 3]] as const) {
      await page.getByLabel(`Quantity for ${name}`).selectOption(String(quantity));
    }
    await page.getByText('13 tickets selected · total shown when held').waitFor();
    await page.getByRole('button', { name: 'Hold tickets' }).click();
    await page.getByRole('timer').waitFor();

    // In binary floating point: 0.30000000000000004, 139.92999999999998, 2.0999999999999996.
    const amount = (selector: string) => page.locator(selector).locator('span, strong').last();
    const shown = async () => ({
      items: await Promise.all(['Coffee', 'Dinner', 'Parking'].map((name) => amount(`[data-hold-item="${name}"]`).textContent())),
      totals: await Promise.all(['EUR', 'USD'].map((currency) => amount(`[data-hold-total="${currency}"]`).textContent())),
    });
    await amount('[data-hold-total="USD"]').waitFor();
    const exact = { items: ['€0.30', '€139.93', '$2.10'], totals: ['€140.23', '$2.10'] };
    expect(await shown()).toEqual(exact);
    expect(await page.locator('[data-hold-total]').count()).toBe(2);

    await page.getByRole('button', { name: 'Buy now' }).click();
    await page.getByText('Purchase complete').waitFor({ timeout: 10_000 });
    expect(await shown()).toEqual(exact);
  });

  it('a hold that expires ends its countdown, and the seats return in both browsers', async () => {
    const slug = await service.event([{ name: 'Quick', totalCapacity: 4 }], 4);
    const a = await open(`/events/${slug}`);
    const b = await open(`/events/${slug}`);
    await hold(a, 'Quick', 4);
    await row(b, 'Quick').getByText('Sold out').waitFor({ timeout: 2000 });
    await a.getByText('Your hold expired').waitFor({ timeout: 10_000 });
    await row(a, 'Quick').getByText('4 available').waitFor({ timeout: 5000 });
    await row(b, 'Quick').getByText('4 available').waitFor({ timeout: 5000 });
    // The panel and its button go: keyboard focus goes back to the tickets, not to the start of the document.
    await a.getByRole('button', { name: 'Choose tickets again' }).press('Enter');
    await expect.poll(() => a.evaluate(() => document.activeElement?.textContent)).toBe('Tickets');
  });

  it('shows the outage when the server dies, then goes live again with the right counts', async () => {
    const slug = await service.event([{ name: 'Floor', totalCapacity: 30 }]);
    const page = await open(`/events/${slug}`);
    await page.getByRole('status').getByText('Live', { exact: true }).first().waitFor();
    await service.kill();
    await page.getByText(/Reconnecting…|Offline|Live updates paused/).first().waitFor({ timeout: 10_000 });
    await service.start();
    await page.getByText('Live', { exact: true }).first().waitFor({ timeout: 30_000 });
    const held = await service.api('GET', `/api/events/${slug}`);
    const floor = held.json.event.ticketTypes[0].id as string;
    const buyer = (await (await fetch(`${service.url}/api/auth/dev-token`, { method: 'POST' })).json()) as { token: string };
    await fetch(`${service.url}/api/events/${slug}/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${buyer.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ ticketTypeId: floor, quantity: 4 }] }),
    });
    await row(page, 'Floor').getByText('26 available').waitFor({ timeout: 5000 });
  }, 90_000);

  it('the organizer dashboard opens on the busiest on-sale event, and a chosen event wins', async () => {
    const page = await open('/organizer');
    await page.getByRole('button', { name: 'Sign in as organizer (dev)' }).press('Enter');
    // The pressed button is gone: focus goes on from the page's heading, not the document's start.
    const focused = () => page.evaluate(() => document.activeElement?.textContent);
    await expect.poll(focused).toBe('Organizer dashboard');
    const { json } = await service.api('GET', '/api/events');
    const busiest = defaultDashboardEvent(json.events as EventSummary[])!;
    const firstType = async (slug: string) => ((await service.api('GET', `/api/events/${slug}`)).json as { event: { ticketTypes: Array<{ name: string }> } }).event.ticketTypes[0]!.name;
    await page.waitForURL(`**/organizer?event=${busiest.slug}`);
    await row(page, await firstType(busiest.slug)).locator('[data-col="sold"]').waitFor();
    const picker = page.getByLabel('Event', { exact: true });
    expect(await picker.inputValue()).toBe(busiest.slug);
    const other = (json.events as EventSummary[]).find((e) => e.slug !== busiest.slug)!.slug;
    await picker.selectOption(other);
    await page.waitForURL(`**/organizer?event=${other}`);
    await row(page, await firstType(other)).locator('[data-col="sold"]').waitFor();
    expect(await picker.inputValue()).toBe(other);
    await page.getByRole('button', { name: 'Sign out' }).press('Enter');
    await page.getByRole('button', { name: 'Sign in as organizer (dev)' }).waitFor();
    await expect.poll(focused).toBe('Organizer dashboard');
  }, 60_000);

  it('the organizer dashboard updates live while the simulator sells', async () => {
    const page = await open('/organizer?event=summer-sound-festival');
    await page.getByRole('button', { name: 'Sign in as organizer (dev)' }).click();
    // Sold, held and available across every ticket type: simulated buyers move some of them within seconds.
    const counts = page.locator('[data-ticket-type] [data-col]');
    await row(page, 'General Admission').locator('[data-col="sold"]').waitFor();
    const before = await counts.allInnerTexts();
    await page.getByRole('button', { name: 'Start simulator' }).click();
    await expect.poll(async () => (await counts.allInnerTexts()).join('|'), { timeout: 30_000, interval: 250 }).not.toBe(before.join('|'));
    await page.screenshot({ path: join(OUTPUT, 'organizer-dashboard.png'), fullPage: true });
    await page.getByRole('button', { name: 'Stop simulator' }).click();
  }, 60_000);

  it("the organizer turns a waiting room on, sees its figures move, refused input explained, the rate changed, admission paused and resumed", async () => {
    const slug = await service.event([{ name: 'Arena', totalCapacity: 100 }]);
    const page = await open(`/organizer?event=${slug}`);
    await page.getByRole('button', { name: 'Sign in as organizer (dev)' }).click();
    await page.getByTestId('queue-absent').waitFor();
    await page.getByText('Set up a waiting room').click();
    // Opened a minute ago (the input is local time, to the minute): admission runs at once.
    const opened = new Date(Date.now() - 60_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    await page.getByLabel('Opens at').fill(`${opened.getFullYear()}-${pad(opened.getMonth() + 1)}-${pad(opened.getDate())}T${pad(opened.getHours())}:${pad(opened.getMinutes())}`);
    await page.getByLabel('Admit per minute').fill('60');
    await page.getByRole('button', { name: 'Turn on the waiting room' }).click();
    const figure = (name: string) => page.locator(`[data-testid="queue-figures"] [data-stat="${name}"]`);
    const status = page.getByTestId('queue-status');
    await status.getByText('Admitting').waitFor();
    expect(await figure('rate').innerText()).toContain('(set 60)');

    // A visitor joins over the API: the line, then the admission, show up within the panel's polls.
    const buyer = (await (await fetch(`${service.url}/api/auth/dev-token`, { method: 'POST' })).json()) as { token: string };
    const joined = await fetch(`${service.url}/api/events/${slug}/queue/entries`, { method: 'POST', headers: { authorization: `Bearer ${buyer.token}` } });
    expect(joined.status).toBe(201);
    await expect.poll(() => figure('admitted').innerText(), { timeout: 10_000 }).toBe('1');
    expect(await figure('served').innerText()).toBe('1 of 1');

    // Refused input: by the form before any request, in words for the field (the API's bounds, not its body field names).
    const rate = page.getByLabel('Admit per minute');
    await rate.fill('0');
    await page.getByRole('button', { name: 'Save rate and cap' }).click();
    await page.getByRole('alert').getByText('Admit per minute: enter a whole number from 1 to 1,000,000.').waitFor();
    await rate.fill('2000000');
    await page.getByRole('button', { name: 'Save rate and cap' }).click();
    await page.getByRole('alert').getByText('Admit per minute: enter a whole number from 1 to 1,000,000.').waitFor();
    await rate.fill('60');
    await page.getByLabel('Active shoppers at most').fill('20000000');
    await page.getByRole('button', { name: 'Save rate and cap' }).click();
    await page.getByRole('alert').getByText('Active shoppers at most: enter a whole number from 1 to 10,000,000, or leave it empty for no cap.').waitFor();
    await page.getByLabel('Active shoppers at most').fill('');
    expect((await service.api('GET', `/api/events/${slug}/queue`)).json.queue.admitPerMinute).toBe(60);

    await rate.fill('45');
    await page.getByLabel('Active shoppers at most').fill('10');
    await page.getByRole('button', { name: 'Save rate and cap' }).click();
    await page.getByText('Saved', { exact: true }).waitFor();
    expect(await figure('rate').innerText()).toContain('(set 45)');
    expect(await figure('active').innerText()).toBe('1 / 10');
    expect((await service.api('GET', `/api/events/${slug}/queue`)).json.queue).toMatchObject({ admitPerMinute: 45, maxActiveShoppers: 10 });

    await page.getByRole('button', { name: 'Pause admission' }).click();
    await status.getByText('Paused').waitFor();
    expect((await service.api('GET', `/api/events/${slug}/queue`)).json.queue.paused).toBe(true);
    await page.getByRole('button', { name: 'Resume admission' }).click();
    await status.getByText('Admitting').waitFor();
    expect((await service.api('GET', `/api/events/${slug}/queue`)).json.queue.paused).toBe(false);
    await page.getByText(/1 visitor admitted since the panel opened/).waitFor();
  }, 60_000);

  it('dashboard fields refuse, in their own words, text that is not a number (never read as "no cap") and numbers beyond the API\'s range', async () => {
    const slug = await service.event([{ name: 'Hall', totalCapacity: 100 }]);
    const page = await open(`/organizer?event=${slug}`);
    await page.getByRole('button', { name: 'Sign in as organizer (dev)' }).click();
    // "1e" is text a number field accepts while typing, and reports as "" (the value of an empty field).
    // These forms validate themselves (noValidate), so the browser does not stop them.
    const typeInto = async (label: string, text: string) => {
      const field = page.getByLabel(label, { exact: true });
      await field.fill('');
      await field.pressSequentially(text);
    };

    await page.getByText('Set up a waiting room').click();
    await typeInto('Active shoppers at most', '5e');
    await page.getByRole('button', { name: 'Turn on the waiting room' }).click();
    await page.getByRole('alert').getByText('Active shoppers at most: that is not a number.').waitFor();
    expect((await service.api('GET', `/api/events/${slug}/queue`)).status).toBe(404);

    await page.getByLabel('Active shoppers at most', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Turn on the waiting room' }).click();
    await page.getByTestId('queue-status').waitFor();
    await typeInto('Active shoppers at most', '5e');
    await page.getByRole('button', { name: 'Save rate and cap' }).click();
    await page.getByRole('alert').getByText('Active shoppers at most: that is not a number.').waitFor();
    expect((await service.api('GET', `/api/events/${slug}/queue`)).json.queue.maxActiveShoppers).toBe(10);

    // Out of the API's range: said in words for the field, not as the API's body field name.
    await page.getByLabel('Capacity for Hall').fill('20000000');
    await page.getByRole('button', { name: 'Save capacity' }).click();
    await page.getByText('Enter a whole number up to 10,000,000, or leave it empty for unlimited.').waitFor();
    expect((await service.api('GET', `/api/events/${slug}`)).json.event.ticketTypes[0].totalCapacity).toBe(100);
  }, 60_000);

  it('a buyer joins the waiting list of a sold-out type, sees their place, gets the offer when a hold is released, and buys it; the dashboard counts it', async () => {
    const slug = await service.event([
      { name: 'Front Row', totalCapacity: 2, maxPerOrder: 2 },
      { name: 'Balcony', totalCapacity: 50 },
      { name: 'Boxes', totalCapacity: 1 },
    ]);
    // Boxes: sold out too (no capacity left), but its list is switched off.
    const boxes = ((await service.api('GET', `/api/events/${slug}`)).json.event as { ticketTypes: Array<{ id: string; name: string }> }).ticketTypes.find((t) => t.name === 'Boxes')!.id;
    expect((await service.api('PATCH', `/api/event-tickets/${boxes}`, { totalCapacity: 0 })).status).toBe(200);
    expect((await service.api('PATCH', `/api/event-tickets/${boxes}/waitlist`, { enabled: false })).status).toBe(200);
    const holder = await open(`/events/${slug}`);
    await hold(holder, 'Front Row', 2);
    const buyer = await open(`/events/${slug}`);
    const list = buyer.locator('[data-waitlist-for="Front Row"]');
    await row(buyer, 'Front Row').getByText('Sold out').waitFor();
    // A type with seats has no list to join, nor one whose list is off.
    await row(buyer, 'Boxes').getByText('Sold out').waitFor();
    for (const name of ['Balcony', 'Boxes']) expect(await buyer.locator(`[data-waitlist-for="${name}"]`).getByRole('button').count()).toBe(0);
    await buyer.getByLabel('Tickets wanted from the Front Row waiting list').selectOption('2');
    await list.getByRole('button', { name: 'Join the waiting list' }).press('Enter');
    await list.getByText('number 1').waitFor();
    // The pressed button is swapped for its opposite: focus follows it.
    await expect.poll(() => buyer.evaluate(() => document.activeElement?.textContent)).toBe('Leave the waiting list');
    // Someone joining after does not pass them: they are second.
    const later = (await (await fetch(`${service.url}/api/auth/dev-token`, { method: 'POST' })).json()) as { token: string };
    const event = (await service.api('GET', `/api/events/${slug}`)).json.event as { ticketTypes: Array<{ id: string; name: string }> };
    const frontRow = event.ticketTypes.find((t) => t.name === 'Front Row')!.id;
    const joined = await fetch(`${service.url}/api/event-tickets/${frontRow}/waitlist`, {
      method: 'POST',
      headers: { authorization: `Bearer ${later.token}`, 'content-type': 'application/json' },
      body: '{"quantity":1}',
    });
    expect((await joined.json()).entry.place).toBe(2);
    await buyer.screenshot({ path: join(OUTPUT, 'waiting-list.png'), fullPage: true });

    // The hold elsewhere is released: the seats are offered to the first in line, held in their name.
    await holder.getByRole('button', { name: 'Release' }).click();
    await holder.getByText('Hold released').waitFor();
    const offer = buyer.locator('[data-offer-for="Front Row"]');
    await offer.getByText('Your waiting-list offer').waitFor({ timeout: 10_000 });
    await offer.getByRole('timer').waitFor();
    await list.getByText('Seats came back for you').waitFor();
    // Nobody else can take them: the type stays sold out for everyone else.
    await row(holder, 'Front Row').getByText('Sold out').waitFor();
    await offer.getByRole('button', { name: 'Buy now' }).click();
    await offer.getByText('Purchase complete').waitFor({ timeout: 10_000 });
    await offer.getByText('2 tickets confirmed.').waitFor();

    const dashboard = await open(`/organizer?event=${slug}`);
    await dashboard.getByRole('button', { name: 'Sign in as organizer (dev)' }).click();
    const figures = dashboard.getByTestId('waitlist-figures').locator('[data-ticket-type="Front Row"]');
    await expect.poll(() => figures.locator('[data-col="offersTaken"]').innerText(), { timeout: 15_000 }).toBe('1');
    expect(await figures.locator('[data-col="offersMade"]').innerText()).toBe('1');
    expect(await figures.locator('[data-col="waiting"]').innerText()).toBe('1');
    // Switching the type's list off closes it (the second in line is told), and the figures follow.
    await figures.getByRole('checkbox').click();
    await dashboard.getByText('Front Row: list off').waitFor();
    await expect.poll(() => figures.locator('[data-col="waiting"]').innerText()).toBe('0');
    const offerSeconds = dashboard.getByLabel('Offers held for (seconds)');
    await offerSeconds.fill('120');
    await dashboard.getByRole('button', { name: 'Save offer time' }).click();
    await dashboard.getByText('Offers are now held for 120 s').waitFor();
    expect((await service.api('GET', `/api/events/${slug}/waitlist`)).json.waitlist.offerSeconds).toBe(120);
    // Closed now: their polling and sockets would slow the tests that follow, which run against the clock.
    for (const page of [holder, buyer, dashboard]) await page.context().close();
  }, 60_000);

  it('sold-out visitors of a waiting room are offered the waiting list, and buy an offer without queueing again', async () => {
    const slug = await service.event([{ name: 'Arena', totalCapacity: 1, maxPerOrder: 1 }]);
    const event = (await service.api('GET', `/api/events/${slug}`)).json.event as { ticketTypes: Array<{ id: string }> };
    const arena = event.ticketTypes[0]!.id;
    // No seat left and none held (capacity down to 0), then the room opens in front of the event.
    expect((await service.api('PATCH', `/api/event-tickets/${arena}`, { totalCapacity: 0 })).status).toBe(200);
    const opensAt = new Date(Date.now() - 60_000).toISOString();
    expect((await service.api('PUT', `/api/events/${slug}/queue`, { opensAt, admitPerMinute: 60 })).status).toBe(200);

    const page = await open(`/events/${slug}`);
    const room = page.locator('.waiting-room');
    await room.locator('[data-queue-state="sold-out"]').waitFor({ timeout: 15_000 });
    await room.getByRole('button', { name: 'Join the waiting list' }).click();
    await room.getByText('number 1').waitFor();

    // More capacity: the seat is offered to the list, and bought from the waiting room's page.
    expect((await service.api('PATCH', `/api/event-tickets/${arena}`, { totalCapacity: 1 })).status).toBe(200);
    const offer = page.locator('[data-offer-for="Arena"]');
    await offer.getByText('Your waiting-list offer').waitFor({ timeout: 10_000 });
    await offer.getByRole('button', { name: 'Buy now' }).click();
    await offer.getByText('Purchase complete').waitFor({ timeout: 10_000 });
    await page.context().close();
  }, 60_000);

  it('a waiting room turned off lets everyone choose tickets: the visitor who was in line and a newcomer', async () => {
    const slug = await service.event([{ name: 'Arena', totalCapacity: 10 }]);
    const opensAt = new Date(Date.now() - 1000).toISOString();
    expect((await service.api('PUT', `/api/events/${slug}/queue`, { opensAt, admitPerMinute: 60 })).status).toBe(200);
    expect((await service.api('PATCH', `/api/events/${slug}/queue`, { paused: true })).status).toBe(200);
    const inLine = await open(`/events/${slug}`);
    await place(inLine, '1');
    expect((await service.api('PATCH', `/api/events/${slug}/queue`, { enabled: false })).status).toBe(200);
    await inLine.getByLabel('Quantity for Arena').waitFor({ timeout: 5000 });
    expect(await inLine.locator('.waiting-room').count()).toBe(0);
    const newcomer = await open(`/events/${slug}`);
    await hold(newcomer, 'Arena', 2);
    expect(await newcomer.locator('.waiting-room').count()).toBe(0);
  });

  it('a turn that ran out during a hold goes back to the waiting room once the hold is released, with a way back in line', async () => {
    const slug = await service.event([{ name: 'Arena', totalCapacity: 10 }]);
    expect((await service.api('PUT', `/api/events/${slug}/queue`, { opensAt: new Date().toISOString(), admitPerMinute: 600, passSeconds: 6 })).status).toBe(200);
    const page = await open(`/events/${slug}`);
    // Loading, joining and the first admission tick: a busy machine (a CI run beside other work) took over 10 s.
    await page.locator('[data-queue-state="your-turn"]').waitFor({ timeout: 20_000 });
    await hold(page, 'Arena', 1);
    // The hold keeps its own deadline; the turn ends meanwhile.
    await page.getByText('Your turn has ended.').waitFor({ state: 'attached', timeout: 10_000 });
    await page.getByRole('button', { name: 'Release' }).click();
    await page.locator('[data-queue-state="expired"]').waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Join again' }).click();
    await page.locator('[data-queue-state="your-turn"]').waitFor({ timeout: 10_000 });
  });

  it('a waiting room in two browsers: places drawn at opening, the first buys, the second moves up, is admitted, then sees sold out', async () => {
    const slug = await service.event([{ name: 'Arena', totalCapacity: 2, maxPerOrder: 1 }]);
    // Opening in an hour: both browsers are in the pre-queue however long they take to load (a busy machine took over 8 s).
    const opensAt = new Date(Date.now() + 3_600_000).toISOString();
    expect((await service.api('PUT', `/api/events/${slug}/queue`, { opensAt, prequeueMinutes: 120, admitPerMinute: 60, maxActiveShoppers: 1, passSeconds: 15 })).status).toBe(200);
    // Paused at first: the places are drawn at opening all the same, and each browser shows its own before anyone is let in.
    expect((await service.api('PATCH', `/api/events/${slug}/queue`, { paused: true })).status).toBe(200);
    const pages = [await open(`/events/${slug}`), await open(`/events/${slug}`)];
    for (const page of pages) {
      await page.locator('[data-queue-state="prequeue"]').waitFor();
      await page.getByText('You joined the waiting room.').waitFor({ state: 'attached' });
    }
    // The organizer opens it now: both get places, 1 and 2, one each, drawn at random.
    const positionOf = (page: Page) => page.locator('[data-queue="position"]');
    expect((await service.api('PATCH', `/api/events/${slug}/queue`, { opensAt: new Date(Date.now() - 1000).toISOString() })).status).toBe(200);
    for (const page of pages) await positionOf(page).getByText(/^[12]$/).waitFor({ timeout: 20_000 });
    const places = await Promise.all(pages.map(async (page) => Number(await positionOf(page).textContent())));
    expect([...places].sort()).toEqual([1, 2]);
    const [first, second] = places[0] === 1 ? pages : [pages[1]!, pages[0]!];
    await second!.locator('[data-queue="ahead"]').getByText('1', { exact: true }).waitFor();
    await second!.getByText('Places are drawn: you are number 2 in line, with 1 person ahead of you.').waitFor({ state: 'attached' });
    await second!.screenshot({ path: join(OUTPUT, 'waiting-room.png'), fullPage: true });

    // Admission starts: the first is let in, holds the one ticket an order allows, and buys it.
    expect((await service.api('PATCH', `/api/events/${slug}/queue`, { paused: false })).status).toBe(200);
    await first!.locator('[data-queue-state="your-turn"]').waitFor({ timeout: 10_000 });
    // A 15-second turn is announced in seconds, never as more time than it has.
    await first!.getByText(/It's your turn\. You have (1[0-5]|[1-9]) seconds? to choose/).waitFor({ state: 'attached' });
    await first!.getByLabel('Quantity for Arena').selectOption('1');
    await first!.getByRole('button', { name: 'Hold tickets' }).click();
    await first!.getByRole('button', { name: 'Buy now' }).click();
    await first!.getByText('Purchase complete').waitFor({ timeout: 10_000 });

    // The second saw the people ahead fall to none, and is let in once the first's turn is over (one shopper at a time).
    await second!.locator('[data-queue="ahead"]').getByText('0', { exact: true }).waitFor();
    await second!.locator('[data-queue-state="your-turn"]').waitFor({ timeout: 30_000 });
    await row(second!, 'Arena').getByText('Only 1 left').waitFor();

    // The last seat goes elsewhere (an organizer's sale is not queued): the second is told it is sold out.
    const event = (await service.api('GET', `/api/events/${slug}`)).json.event as { ticketTypes: Array<{ id: string }> };
    const seller = (await (await fetch(`${service.url}/api/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"organizer"}' })).json()) as { token: string };
    const asSeller = (path: string, body: unknown) =>
      fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${seller.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const held = await asSeller(`/api/events/${slug}/reservations`, { items: [{ ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }] });
    expect(held.status).toBe(201);
    const { reservation } = (await held.json()) as { reservation: { id: string } };
    expect((await asSeller(`/api/reservations/${reservation.id}/confirm`, {})).status).toBe(200);
    await second!.locator('[data-queue-state="sold-out"]').waitFor({ timeout: 5000 });
    await row(second!, 'Arena').getByText('Sold out').waitFor();
    await second!.getByText('Sold out: every ticket has been sold.').waitFor({ state: 'attached' });
  }, 120_000);

  it('a visitor who closes the tab and comes back keeps their place', async () => {
    const slug = await service.event([{ name: 'Hall', totalCapacity: 10 }]);
    const opensAt = new Date(Date.now() + 3_600_000).toISOString();
    expect((await service.api('PUT', `/api/events/${slug}/queue`, { opensAt, prequeueMinutes: 120, admitPerMinute: 60 })).status).toBe(200);
    const ahead = await open(`/events/${slug}`);
    await ahead.locator('[data-queue-state="prequeue"]').waitFor();
    expect((await service.api('PATCH', `/api/events/${slug}/queue`, { opensAt: new Date(Date.now() - 1000).toISOString(), paused: true })).status).toBe(200);
    await place(ahead, '1');
    const page = await open(`/events/${slug}`);
    await place(page, '2');
    const context = page.context();
    await page.close();
    // Someone joins meanwhile; coming back, the visitor is still second, not behind them.
    await place(await open(`/events/${slug}`), '3');
    const back = await context.newPage();
    await back.goto(`${service.url}/events/${slug}`);
    await place(back, '2');
  }, 60_000);

  it('leaves its screenshots for the README', async () => {
    for (const name of ['event-page.png', 'organizer-dashboard.png']) expect(existsSync(join(OUTPUT, name))).toBe(true);
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      for (const name of ['event-page.png', 'organizer-dashboard.png']) await copyFile(join(OUTPUT, name), join(ROOT, 'docs', name));
    }
  });
});
