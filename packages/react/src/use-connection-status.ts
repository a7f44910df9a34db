import type { ConnectionStatus } from '@ticketpulse/client';
import { useCallback, useSyncExternalStore } from 'react';
import { useTicketAvailabilityManager } from './provider.tsx';

const serverStatus = (): ConnectionStatus => 'connecting';

/** The manager's overall connection status. Watching it opens nothing. */
export function useConnectionStatus(): ConnectionStatus {
  const manager = useTicketAvailabilityManager();
  const subscribe = useCallback((onChange: () => void) => manager.onStatusChange(onChange), [manager]);
  return useSyncExternalStore(subscribe, () => manager.getConnectionStatus(), serverStatus);
}
