import { DEFAULT_ENDPOINT_HOSTS, parseEndpointHosts, type EndpointHost } from './endpoint-hosts.ts';

/** A VAPID key pair (RFC 8292), URL-safe base64 as web-push writes it. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Web Push settings (TICKETPULSE_VAPID_*, TICKETPULSE_PUSH_*; docs/push.md). */
export interface PushSettings {
  /** From configuration; unset: generated once and kept in the database, shared by every node. */
  vapid: VapidKeys | undefined;
  /** The VAPID `sub` claim: how a push service reaches the operator (mailto: or https:). */
  subject: string;
  /** The push services a subscription's endpoint may point at. */
  endpointHosts: readonly EndpointHost[];
  /** How often the sender drains the outbox. */
  intervalMs: number;
  /** How long one send may take; a claimed notification is sent again after about twice this if its sender died. */
  timeoutMs: number;
  /** A hold with this little time left sends "about to expire", once. */
  expiryWarningSeconds: number;
}

/** The defaults TICKETPULSE_PUSH_* and TICKETPULSE_VAPID_SUBJECT fall back to (config.ts), and services built without them (tests). */
export const DEFAULT_PUSH_SETTINGS: PushSettings = {
  vapid: undefined,
  subject: 'mailto:push@ticketpulse.invalid',
  endpointHosts: parseEndpointHosts(DEFAULT_ENDPOINT_HOSTS)!,
  intervalMs: 500,
  timeoutMs: 10_000,
  expiryWarningSeconds: 120,
};
