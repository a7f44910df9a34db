import { httpRequest } from './http-request.ts';
import type { DevToken } from './types.ts';

/**
 * The buyer's token lives in localStorage, so a buyer who closes the tab and
 * comes back is the same `sub`: their place in a waiting room is theirs
 * again (docs/waiting-room.md). The organizer's lives in sessionStorage,
 * gone when the tab closes. Holds shown are remembered per tab.
 */
const BUYER_KEY = 'ticketpulse.buyer';
const ORGANIZER_KEY = 'ticketpulse.organizer';
const HOLD_KEY = 'ticketpulse.hold.';
/** A token this close to expiry is treated as expired. */
const EXPIRY_MARGIN_MS = 60_000;

interface StoredToken {
  token: string;
  expiresAt: string;
}

function storage(kind: 'sessionStorage' | 'localStorage' = 'sessionStorage'): Storage | null {
  try {
    return globalThis[kind] ?? null;
  } catch {
    return null;
  }
}

/** Where each token is kept. */
const tokenStorage = (key: string) => storage(key === BUYER_KEY ? 'localStorage' : 'sessionStorage');

function readToken(key: string): string | null {
  const raw = tokenStorage(key)?.getItem(key);
  if (!raw) return null;
  try {
    const stored = JSON.parse(raw) as StoredToken;
    if (Date.parse(stored.expiresAt) - EXPIRY_MARGIN_MS > Date.now()) return stored.token;
  } catch {
    // Unreadable: mint a new one.
  }
  tokenStorage(key)?.removeItem(key);
  return null;
}

function writeToken(key: string, { token, expiresAt }: DevToken): void {
  tokenStorage(key)?.setItem(key, JSON.stringify({ token, expiresAt } satisfies StoredToken));
}

let minting: Promise<string> | null = null;

/** This tab's buyer token: a dev token (role authenticated) minted on first use. */
export function getBuyerToken(): Promise<string> {
  const stored = readToken(BUYER_KEY);
  if (stored) return Promise.resolve(stored);
  minting ??= httpRequest<DevToken>('/api/auth/dev-token', { method: 'POST', body: { role: 'authenticated' } })
    .then((minted) => {
      writeToken(BUYER_KEY, minted);
      return minted.token;
    })
    .finally(() => {
      minting = null;
    });
  return minting;
}

export function forgetBuyerToken(): void {
  tokenStorage(BUYER_KEY)?.removeItem(BUYER_KEY);
}

const organizerListeners = new Set<() => void>();

export function getOrganizerToken(): string | null {
  return readToken(ORGANIZER_KEY);
}

export function onOrganizerChange(listener: () => void): () => void {
  organizerListeners.add(listener);
  return () => organizerListeners.delete(listener);
}

function organizerChanged(): void {
  for (const listener of organizerListeners) listener();
}

/** Mints an organizer dev token (demo servers only). */
export async function signInOrganizer(): Promise<void> {
  const minted = await httpRequest<DevToken>('/api/auth/dev-token', { method: 'POST', body: { role: 'organizer' } });
  writeToken(ORGANIZER_KEY, minted);
  organizerChanged();
}

export function signOutOrganizer(): void {
  tokenStorage(ORGANIZER_KEY)?.removeItem(ORGANIZER_KEY);
  organizerChanged();
}

/** The buyer's current hold on an event, so a reload finds its countdown again. */
export function rememberHold(slug: string, reservationId: string | null): void {
  if (reservationId) storage()?.setItem(HOLD_KEY + slug, reservationId);
  else storage()?.removeItem(HOLD_KEY + slug);
}

export function recallHold(slug: string): string | null {
  return storage()?.getItem(HOLD_KEY + slug) ?? null;
}
