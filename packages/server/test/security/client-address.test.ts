import { CloseCode } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { ProxyTrust } from '../../src/limits/client-address.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ForwardingProxy } from '../support/forwarding-proxy.ts';
import { send, tally } from '../support/http-send.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const READS_PER_MINUTE = 5;

/**
 * Per-address limits behind real appending proxies (as nginx's
 * $proxy_add_x_forwarded_for): whatever a client writes in its own
 * X-Forwarded-For, it is counted by the address its proxy saw. Clients are
 * 127.0.0.2 and 127.0.0.3 (and ::1); the proxies connect from 127.0.0.1.
 */
describe('client addresses behind proxies', () => {
  let t: TestDatabase;
  const servers: TestServer[] = [];
  const proxies: ForwardingProxy[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const p of proxies.splice(0)) await p.stop();
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => t.dispose());

  const serve = async (trustProxy: ProxyTrust) => {
    const server = await startTestServer(t.db, {
      httpRateLimits: { readsPerMinute: READS_PER_MINUTE },
      realtime: { trustProxy, maxConnectionsPerIp: 1 },
    });
    servers.push(server);
    return server;
  };
  /** A chain of proxies in front of `url`, the last one next to the service; each listens on its host. */
  const behind = async (url: string, hosts: string[]) => {
    let next = url;
    for (const host of [...hosts].reverse()) {
      const { proxy, url: proxyUrl } = await ForwardingProxy.start(next, host);
      proxies.push(proxy);
      next = proxyUrl;
    }
    return next;
  };
  /** Reads from one client, each claiming another address of its own choosing. */
  const forgedReads = (url: string, from: string, count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => send(url, 'GET', '/api/events', { from, headers: { 'x-forwarded-for': `1.2.3.${i}` } })));
  /** A WebSocket from one client with a forged header: welcomed, or closed with a code. */
  const forgedSocket = async (server: TestServer, url: string, from: string, forged: string) => {
    const socket = await TestSocket.open(url, { token: await server.token() }, { localAddress: from, headers: { 'x-forwarded-for': forged } });
    sockets.push(socket);
    return Promise.race([socket.next((m) => m.type === 'welcome').then(() => 'welcome' as const), socket.closed.then((c) => c.code)]);
  };

  it.each<[string, ProxyTrust, string[], string, string]>([
    ['one trusted hop (TICKETPULSE_TRUST_PROXY=1)', 1, ['127.0.0.1'], '127.0.0.2', '127.0.0.3'],
    ['two trusted hops (=2)', 2, ['127.0.0.1', '127.0.0.1'], '127.0.0.2', '127.0.0.3'],
    // The first proxy reaches the second over IPv6: the service hears "::1" as a hop, trusted by the list.
    ['a CIDR list with an IPv6 proxy (=127.0.0.1/32,::1)', ['127.0.0.1/32', '::1'], ['127.0.0.1', '::1'], '127.0.0.2', '127.0.0.3'],
  ])('%s: a client is limited as itself whatever it forwards, and another keeps its own budget', async (_name, trust, hosts, client, other) => {
    const server = await serve(trust);
    const url = await behind(server.url, hosts);

    expect(tally(await forgedReads(url, client, READS_PER_MINUTE + 3))).toEqual({ 200: READS_PER_MINUTE, 429: 3 });
    expect(tally(await forgedReads(url, other, 2))).toEqual({ 200: 2 });

    // One open connection per address: a second one with another forged address is still the same client.
    expect(await forgedSocket(server, url, client, '198.51.100.1')).toBe('welcome');
    expect(await forgedSocket(server, url, client, '198.51.100.2')).toBe(CloseCode.tooManyConnections);
    expect(await forgedSocket(server, url, other, '198.51.100.1')).toBe('welcome');
  });

  it('an IPv6 client (::1) behind a trusted IPv4 proxy is limited as itself', async () => {
    const server = await serve(['127.0.0.1']);
    const url = await behind(server.url, ['::1']);
    expect(tally(await forgedReads(url, '::1', READS_PER_MINUTE + 2))).toEqual({ 200: READS_PER_MINUTE, 429: 2 });
    // IPv4 clients through another proxy are not that client.
    const v4 = await behind(server.url, ['127.0.0.1']);
    expect(tally(await forgedReads(v4, '127.0.0.2', 2))).toEqual({ 200: 2 });
    expect(await forgedSocket(server, url, '::1', '2001:db8::1')).toBe('welcome');
    expect(await forgedSocket(server, url, '::1', '2001:db8::2')).toBe(CloseCode.tooManyConnections);
  });

  it('without trust the header is ignored: every address a client claims is the connection’s own', async () => {
    const server = await serve(false);
    expect(tally(await forgedReads(server.url, '127.0.0.2', READS_PER_MINUTE + 3))).toEqual({ 200: READS_PER_MINUTE, 429: 3 });
    expect(tally(await forgedReads(server.url, '127.0.0.3', 2))).toEqual({ 200: 2 });
    expect(await forgedSocket(server, server.url, '127.0.0.2', '198.51.100.1')).toBe('welcome');
    expect(await forgedSocket(server, server.url, '127.0.0.2', '198.51.100.2')).toBe(CloseCode.tooManyConnections);
  });

  it('TICKETPULSE_TRUST_PROXY takes a hop count or proxy addresses and CIDRs, and refuses anything else with one line', () => {
    const trust = (value: string) => loadConfig({ TICKETPULSE_TRUST_PROXY: value }).realtime.trustProxy;
    expect(loadConfig({}).realtime.trustProxy).toBe(false);
    expect(trust('0')).toBe(false);
    expect(trust('off')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.0/8,127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(trust(' 10.0.0.0/8 , fd00::/8 ')).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(trust('loopback,uniquelocal')).toEqual(['loopback', 'uniquelocal']);
    // `true` would trust every hop, so the client's own first entry: refused, not guessed at.
    for (const bad of ['true', 'yes', '21', '-1', '10.0.0.0/33', '::1/129', 'proxy.internal', '10.0.0.0/8,,::1', '1.2.3', '10.0.0.1/x']) {
      expect(() => trust(bad), bad).toThrow(/^Invalid configuration: TICKETPULSE_TRUST_PROXY must be a hop count/);
    }
  });
});
