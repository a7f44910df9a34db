import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, withAdmin } from './support/database.ts';
import { callNode, type RunningNode } from './support/process.ts';
import { BrowserSubscription, createPushEvent, FakePushService, startPushNode, verifyVapid } from './support/push-service.ts';
import { eventually } from './support/viewer.ts';

/**
 * Web Push end to end (docs/push.md): the service as its own processes on one
 * PostgreSQL schema, a fake push service on loopback HTTPS standing in for
 * the browser vendor's, and browsers played by BrowserSubscription (their own
 * keys; the payload decrypted by RFC 8291 written in the test).
 */
describe.skipIf(!postgresUrl)('Web Push', () => {
  const pushService = new FakePushService();
  const schema = `t_push_${randomBytes(4).toString('hex')}`;
  const nodes: RunningNode[] = [];
  let node: RunningNode;


  /** A node of the service; `intervalMs` of an hour means its sender never runs during the test. */
  const start = async (intervalMs = 100): Promise<RunningNode> => {
    const started = await startPushNode(pushService, schema, {
      TICKETPULSE_PUSH_INTERVAL_MS: String(intervalMs),
      TICKETPULSE_PUSH_EXPIRY_WARNING_SECONDS: '3',
    });
    nodes.push(started);
    return started;
  };
  const isAlive = (running: RunningNode) => running.child.exitCode === null && running.child.signalCode === null;
  const kill = async (target: RunningNode) => {
    const exited = new Promise((resolve) => target.child.once('exit', resolve));
    target.child.kill('SIGKILL');
    await exited;
  };

  const call = callNode;
  /** A fresh user's token (any node signs with the same secret). */
  const token = async (role = 'authenticated') => {
    const alive = nodes.find(isAlive)!;
    return (await call(alive, 'POST', '/api/auth/dev-token', undefined, { role })).body.token as string;
  };

  /** A fresh event with one type of `capacity` seats, already held by someone else: {typeId, slug, eventId, release()}. */
  const soldOut = async (on: RunningNode, capacity = 1) => {
    const { slug, eventId, typeId } = await createPushEvent(on, await token('organizer'), capacity);
    const other = await token();
    const held = await call(on, 'POST', `/api/events/${eventId}/reservations`, other, { items: [{ ticketTypeId: typeId, quantity: capacity }] });
    expect(held.status).toBe(201);
    return { slug, eventId, typeId, otherHold: held.body.reservation.id as string, release: (by = on) => call(by, 'DELETE', `/api/reservations/${held.body.reservation.id}`, other) };
  };
  const subscribe = async (on: RunningNode, buyer: string) => {
    const browser = new BrowserSubscription(pushService.host);
    const stored = await call(on, 'POST', '/api/push/subscriptions', buyer, browser.toJSON());
    expect(stored.status).toBe(201);
    return browser;
  };

  beforeAll(async () => {
    await pushService.start();
    await withAdmin((c) => c.query(`CREATE SCHEMA ${schema}`));
    node = await start();
  }, 120_000);

  afterAll(async () => {
    for (const running of nodes) await running.stop();
    await pushService.stop();
    await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }, 120_000);

  it('sends an offer to the waiting buyer: signed with the published VAPID key, encrypted to their browser, holding only their offer', async () => {
    const event = await soldOut(node);
    const buyer = await token();
    const browser = await subscribe(node, buyer);
    // The same browser again is the same subscription.
    expect((await call(node, 'POST', '/api/push/subscriptions', buyer, browser.toJSON())).status).toBe(200);
    const joined = await call(node, 'POST', `/api/event-tickets/${event.typeId}/waitlist`, buyer, { quantity: 1 });
    expect(joined.status).toBe(201);
    expect((await event.release()).status).toBe(200);

    await eventually(() => pushService.to(browser.path).length === 1, 'the offer is pushed');
    const push = pushService.to(browser.path)[0]!;
    const entry = (await call(node, 'GET', '/api/waitlist/me', buyer)).body.entries[0];
    expect(entry.status).toBe('offered');
    const message = browser.decrypt(push.body) as Record<string, unknown>;
    expect(message).toEqual({
      id: expect.stringMatching(/^n\d+$/),
      kind: 'offer',
      eventId: event.eventId,
      eventName: `Push ${event.slug}`,
      ticketTypeId: event.typeId,
      ticketTypeName: 'General',
      reservationId: entry.offer.reservationId,
      quantity: 1,
      expiresAt: entry.offer.expiresAt,
      url: `/events/${event.slug}`,
    });
    // Nothing of the buyer whose seat it was.
    expect(JSON.stringify(message)).not.toContain(event.otherHold);

    const { publicKey } = (await call(node, 'GET', '/api/push/vapid-public-key')).body;
    const claims = await verifyVapid(push, publicKey);
    expect(claims.aud).toBe(`https://${pushService.host}`);
    expect(claims.sub).toBe('mailto:push@ticketpulse.invalid');
    expect(claims.exp! * 1000).toBeGreaterThan(Date.now());
    expect(push.headers['content-encoding']).toBe('aes128gcm');
    expect(push.headers['topic']).toBe(message.id);
    expect(Number(push.headers['ttl'])).toBeGreaterThan(800);
  });

  it('refuses endpoints that are not https:// URLs of an allowed push service, and malformed keys', async () => {
    const buyer = await token();
    const browser = new BrowserSubscription(pushService.host).toJSON();
    for (const endpoint of [`http://${pushService.host}/push/x`, 'https://evil.example/push/x', 'https://127.0.0.1/push/x', `https://user:pw@${pushService.host}/x`, 'not a url']) {
      const refused = await call(node, 'POST', '/api/push/subscriptions', buyer, { ...browser, endpoint });
      expect([endpoint, refused.status, refused.body.error.code]).toEqual([endpoint, 400, 'push_endpoint_not_allowed']);
    }
    for (const keys of [{ ...browser.keys, p256dh: 'AAAA' }, { ...browser.keys, auth: browser.keys.p256dh }, { p256dh: browser.keys.p256dh }]) {
      const refused = await call(node, 'POST', '/api/push/subscriptions', buyer, { ...browser, keys });
      expect([refused.status, refused.body.error.code]).toEqual([400, 'invalid_request']);
    }
    expect((await call(node, 'POST', '/api/push/subscriptions', undefined, browser)).status).toBe(401);
  });

  it('tells a watcher once when a sold-out type comes back, and deletes a subscription the push service answers 410 for', async () => {
    const event = await soldOut(node);
    const buyer = await token();
    const browser = await subscribe(node, buyer);
    pushService.answers.set(browser.path, [410]);
    expect((await call(node, 'POST', `/api/event-tickets/${event.typeId}/notify`, buyer)).status).toBe(201);
    expect((await call(node, 'POST', `/api/event-tickets/${event.typeId}/notify`, buyer)).status).toBe(200);
    expect((await call(node, 'GET', '/api/push/watches', buyer)).body.watches).toEqual([{ ticketTypeId: event.typeId, eventId: event.eventId, createdAt: expect.any(String) }]);
    await event.release();

    await eventually(() => pushService.to(browser.path).length === 1, 'the watcher is told');
    expect(browser.decrypt(pushService.to(browser.path)[0]!.body)).toMatchObject({ kind: 'ticket_type_back', ticketTypeId: event.typeId, url: `/events/${event.slug}` });
    expect((await call(node, 'GET', '/api/push/watches', buyer)).body.watches).toEqual([]);
    // 410 Gone: the browser unsubscribed, so the service forgot it (storing it again creates it anew).
    await eventually(
      async () => (await call(node, 'POST', '/api/push/subscriptions', buyer, browser.toJSON())).status === 201,
      'the subscription is deleted',
    );
    const removed = await call(node, 'DELETE', '/api/push/subscriptions', buyer, { endpoint: browser.endpoint });
    expect(removed.status).toBe(204);
    const again = await call(node, 'DELETE', `/api/push/subscriptions?endpoint=${encodeURIComponent(browser.endpoint)}`, buyer);
    expect([again.status, again.body.error.code]).toEqual([404, 'push_subscription_not_found']);
    // An endpoint is a capability URL: never in the log, not even from the query string or the 410.
    expect(node.output()).not.toContain(browser.path.slice(1));
    expect(node.output()).not.toContain(encodeURIComponent(browser.path));
    const watching = await call(node, 'POST', `/api/event-tickets/${event.typeId}/notify`, buyer);
    expect([watching.status, watching.body.error.code]).toEqual([409, 'push_watch_seats_available']);
  });

  it('tells a watcher of a paused sale when it resumes with seats to hold', async () => {
    const organizer = await token('organizer');
    const slug = `push-${randomBytes(4).toString('hex')}`;
    const created = await call(node, 'POST', '/api/events', organizer, {
      slug,
      name: `Push ${slug}`,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      status: 'paused',
      ticketTypes: [{ name: 'General', totalCapacity: 5, price: '10.00', maxPerOrder: 4 }],
    });
    expect(created.status).toBe(201);
    const typeId = created.body.event.ticketTypes[0].id as string;
    const buyer = await token();
    const browser = await subscribe(node, buyer);
    // Seats exist but cannot be held while the sale is paused: watching is allowed.
    expect((await call(node, 'POST', `/api/event-tickets/${typeId}/notify`, buyer)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pushService.to(browser.path)).toHaveLength(0);

    expect((await call(node, 'PATCH', `/api/events/${slug}`, organizer, { status: 'on_sale' })).status).toBe(200);
    await eventually(() => pushService.to(browser.path).length === 1, 'the watcher is told the sale is back');
    expect(browser.decrypt(pushService.to(browser.path)[0]!.body)).toMatchObject({ kind: 'ticket_type_back', ticketTypeId: typeId, url: `/events/${slug}` });
    expect((await call(node, 'GET', '/api/push/watches', buyer)).body.watches).toEqual([]);
  });

  it('retries with backoff when the push service answers 5xx or 429, until it takes the push, and then stops', async () => {
    const event = await soldOut(node);
    const buyer = await token();
    const browser = await subscribe(node, buyer);
    pushService.answers.set(browser.path, [503, 429]);
    await call(node, 'POST', `/api/event-tickets/${event.typeId}/notify`, buyer);
    await event.release();
    await eventually(() => pushService.to(browser.path).length === 3, 'the third attempt', 10_000);
    const [first, second, third] = pushService.to(browser.path).map((push) => ({ at: Number(push.headers['x-received-at']), ...(browser.decrypt(push.body) as { id: string }) }));
    // The same notification each time, after 1 s, then 2 s more.
    expect(new Set([first!.id, second!.id, third!.id]).size).toBe(1);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(1900);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pushService.to(browser.path)).toHaveLength(3);
  });

  it('warns a subscribed holder once that their hold is about to expire', async () => {
    const slug = `push-${randomBytes(4).toString('hex')}`;
    const created = await call(node, 'POST', '/api/events', await token('organizer'), {
      slug,
      name: `Push ${slug}`,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      holdSeconds: 5,
      ticketTypes: [{ name: 'General', totalCapacity: 10, price: '10.00', maxPerOrder: 4 }],
    });
    const buyer = await token();
    const browser = await subscribe(node, buyer);
    const held = await call(node, 'POST', `/api/events/${created.body.event.id}/reservations`, buyer, { items: [{ ticketTypeId: created.body.event.ticketTypes[0].id, quantity: 2 }] });
    expect(held.status).toBe(201);
    await eventually(() => pushService.to(browser.path).length === 1, 'the warning is pushed', 8000);
    expect(browser.decrypt(pushService.to(browser.path)[0]!.body)).toMatchObject({ kind: 'hold_expiring', reservationId: held.body.reservation.id, url: `/events/${slug}` });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pushService.to(browser.path)).toHaveLength(1);
  });

  it('delivers an offer committed by a node that died before sending it, exactly once, from another node', async () => {
    const doomed = await start(3_600_000);
    const event = await soldOut(doomed);
    const buyer = await token();
    const browser = await subscribe(doomed, buyer);
    await call(doomed, 'POST', `/api/event-tickets/${event.typeId}/waitlist`, buyer, { quantity: 1 });
    // The offer and its outbox row commit together on a node whose sender does not run (an hour's interval); it dies at once.
    // `node` may already have drained the row by then: either way, the buyer gets exactly one push.
    expect((await event.release(doomed)).status).toBe(200);
    await kill(doomed);

    // Any node drains the shared outbox: `node`'s sender sends it, and a restarted node sends nothing more.
    await eventually(() => pushService.to(browser.path).length === 1, 'the offer is pushed by a surviving node');
    const restarted = await start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pushService.to(browser.path)).toHaveLength(1);
    expect(browser.decrypt(pushService.to(browser.path)[0]!.body)).toMatchObject({ kind: 'offer', ticketTypeId: event.typeId });
    await restarted.stop();
  }, 120_000);

  it('sends again, with the same id and Topic, a push its sender died waiting for, and then never more', async () => {
    // Only one node drains here, so the one that dies is the one sending.
    await node.stop();
    const sender = await start();
    const event = await soldOut(sender);
    const buyer = await token();
    const browser = await subscribe(sender, buyer);
    pushService.answers.set(browser.path, ['hang']);
    await call(sender, 'POST', `/api/event-tickets/${event.typeId}/waitlist`, buyer, { quantity: 1 });
    await event.release(sender);
    await eventually(() => pushService.to(browser.path).length === 1, 'the push reaches the push service');
    // Accepted or not, the sender dies before it can mark the row sent.
    await kill(sender);
    node = await start();

    await eventually(() => pushService.to(browser.path).length === 2, 'the claim lapses and the push is sent again', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const [first, second] = pushService.to(browser.path);
    expect(pushService.to(browser.path)).toHaveLength(2);
    const ids = [browser.decrypt(first!.body), browser.decrypt(second!.body)].map((m) => (m as { id: string }).id);
    // One notification: the push service collapses it by Topic, the service worker by its tag (the id).
    expect(ids[0]).toBe(ids[1]);
    expect(second!.headers['topic']).toBe(first!.headers['topic']);
  }, 120_000);
});
