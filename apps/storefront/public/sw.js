// The shop's service worker (docs/storefront.md, "Web Push"): served at /sw.js
// so its scope is the whole shop. It shows each push as a notification and
// opens the push's page when the buyer clicks it. The payload is a
// PushMessage (@ticketpulse/protocol, push.ts); `id` is the same on every
// resend of one notification, so the tag shows it once.

const TITLES = {
  offer: (m) => `Tickets held for you: ${m.quantity} × ${m.ticketTypeName}`,
  ticket_type_back: (m) => `${m.ticketTypeName} is available again`,
  hold_expiring: () => 'Your hold is about to expire',
};

const until = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

const BODIES = {
  offer: (m) => `${m.eventName}: buy them before ${until(m.expiresAt)}, or they go to the next in line.`,
  ticket_type_back: (m) => `${m.eventName}: seats are back on sale. Be quick!`,
  hold_expiring: (m) => `${m.eventName}: finish your purchase before ${until(m.expiresAt)}.`,
};

/** The push's message, or null when it is not one of ours. */
function readMessage(event) {
  try {
    const message = event.data ? event.data.json() : null;
    return message && typeof message.id === 'string' && TITLES[message.kind] ? message : null;
  } catch {
    return null;
  }
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  const message = readMessage(event);
  // Browsers require a notification for every push; an unreadable one still says something.
  const title = message ? TITLES[message.kind](message) : 'TicketPulse';
  const options = message
    ? { body: BODIES[message.kind](message), tag: `ticketpulse-${message.id}`, data: { url: message.url }, requireInteraction: message.kind === 'offer' }
    : { body: 'Something changed for your tickets.', data: { url: '/' } };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  // Only this shop's pages: a path, resolved against our own origin.
  const target = new URL(event.notification.data?.url ?? '/', self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).pathname === target.pathname);
      return open ? open.focus() : self.clients.openWindow(target.href);
    }),
  );
});
