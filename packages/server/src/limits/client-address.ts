import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';

/**
 * Which proxies in front of this node may report a client's address
 * (TICKETPULSE_TRUST_PROXY): none, a number of hops, or the proxies' own
 * addresses and CIDR ranges (`10.0.0.0/8`, `::1`, or proxy-addr's names
 * `loopback`, `linklocal`, `uniquelocal`).
 */
export type ProxyTrust = false | number | readonly string[];

/** The address a request comes from, as per-address limits count it. */
export type ClientAddressOf = (request: IncomingMessage) => string;

/**
 * One function for the HTTP API's and the realtime gateway's per-address
 * limits. With trust, the client is the right-most X-Forwarded-For entry that
 * is not a trusted proxy, as Fastify's trustProxy and proxy-addr compute it:
 * proxies append to what the client sent, so entries left of the last
 * trusted hop are the client's own words and never believed. A hop count
 * trusts whatever peer connects; use it only on nodes the proxy alone can reach.
 */
export function clientAddressResolver(trust: ProxyTrust): ClientAddressOf {
  if (trust === false || trust === 0) return (request) => request.socket.remoteAddress ?? 'unknown';
  const trusted = typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : proxyaddr.compile([...trust]);
  // A socket already gone has no address; proxy-addr would then answer undefined.
  return (request) => (request.socket.remoteAddress === undefined ? 'unknown' : proxyaddr(request, trusted));
}

/** Whether proxy-addr can read every entry (addresses, CIDRs, its named ranges). */
export function isProxyList(entries: readonly string[]): boolean {
  try {
    proxyaddr.compile([...entries]);
    return true;
  } catch {
    return false;
  }
}
