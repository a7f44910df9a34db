import type { VapidPublicKey } from '@ticketpulse/protocol';
import { api } from './api.ts';

/** The service worker (public/sw.js), at the root so its scope is the whole shop. */
const WORKER_URL = '/sw.js';

/** What happened when the shop tried to turn pushes on. */
export type PushState = 'subscribed' | 'denied' | 'unsupported' | 'unavailable';

const supported = (): boolean => typeof Notification !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in globalThis;

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/**
 * Asks (once) for permission to notify, registers the service worker and
 * subscribes this browser to Web Push with the service's VAPID key, then
 * stores the subscription for this tab's buyer (POST /api/push/subscriptions).
 * Called when the buyer asks to be told something (Notify me, joining a
 * waiting list), never on page load. `unavailable`: permission was given but
 * the browser could not reach its push service; the page still tells the
 * buyer while it is open.
 */
export async function enablePush(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  if (permission !== 'granted') return 'denied';
  try {
    const registration = await navigator.serviceWorker.register(WORKER_URL, { scope: '/' });
    await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      const { publicKey } = await api<VapidPublicKey>('/api/push/vapid-public-key');
      subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
    }
    await api('/api/push/subscriptions', { method: 'POST', auth: 'buyer', body: subscription.toJSON() });
    return 'subscribed';
  } catch {
    return 'unavailable';
  }
}
