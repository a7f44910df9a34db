/**
 * Which push services the service will call (TICKETPULSE_PUSH_ENDPOINT_HOSTS).
 * A subscription's endpoint is a URL the service later POSTs to, so only
 * https:// URLs on these hosts are stored (docs/push.md, "Endpoints").
 */

/** One allowed host: `*.` matches any subdomain (never the bare domain); no port: 443 only. */
export interface EndpointHost {
  host: string;
  wildcard: boolean;
  port: number;
}

/** The major browser vendors' push services: Chrome and Edge (FCM), Firefox, Windows, Safari. */
export const DEFAULT_ENDPOINT_HOSTS = 'fcm.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,web.push.apple.com,*.push.apple.com';

const HOST_ENTRY = /^(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:(\d{1,5}))?$/;

/** Parses the comma-separated list; undefined when an entry is not `host`, `*.domain`, `host:port` or `[v6]:port`. */
export function parseEndpointHosts(value: string): EndpointHost[] | undefined {
  const entries = value.split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
  const hosts: EndpointHost[] = [];
  for (const entry of entries) {
    const match = HOST_ENTRY.exec(entry);
    const port = match?.[5] === undefined ? 443 : Number(match[5]);
    if (!match || port < 1 || port > 65535 || (match[1] && match[2]!.startsWith('['))) return undefined;
    hosts.push({ host: match[2]!, wildcard: match[1] !== undefined, port });
  }
  return hosts.length > 0 ? hosts : undefined;
}

/** Whether the service may call this endpoint: https, no credentials, on an allowed host and port. */
export function isAllowedEndpoint(endpoint: string, allowed: readonly EndpointHost[]): boolean {
  if (!URL.canParse(endpoint)) return false;
  const url = new URL(endpoint);
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return false;
  const port = url.port === '' ? 443 : Number(url.port);
  const host = url.hostname.toLowerCase();
  return allowed.some((entry) => entry.port === port && (entry.wildcard ? host.endsWith(`.${entry.host}`) : host === entry.host));
}
