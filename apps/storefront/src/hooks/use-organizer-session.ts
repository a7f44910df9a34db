import { useSyncExternalStore } from 'react';
import { getOrganizerToken, onOrganizerChange } from '../session.ts';

/** The organizer token of this tab, or null; re-renders on sign-in and sign-out. */
export function useOrganizerToken(): string | null {
  return useSyncExternalStore(onOrganizerChange, getOrganizerToken, () => null);
}
