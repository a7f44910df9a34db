// The design's two usage examples (docs: Usage), copied as written. Only the
// imports differ, `toast` is a stub that records, and TicketSelection's
// `ticketId`, which the snippet reads from a scope the design does not show,
// is set by the test. Plain JavaScript, as the snippets are.
import { useSingleTicketAvailability, useTicketAvailability } from '../../src/index.ts';

export const toasts = [];
const toast = {
  warning: (message) => toasts.push({ kind: 'warning', message }),
  error: (message) => toasts.push({ kind: 'error', message }),
};

let ticketId;
export function prepareSeedExamples(selectedTicketId) {
  ticketId = selectedTicketId;
  toasts.length = 0;
}

function TicketSelection({ eventId }) {
  const { 
    availability, 
    isConnected,
    isTicketAvailable,
    getActualAvailable 
  } = useTicketAvailability(eventId, {
    onLowStock: (name, count) => {
      toast.warning(`${name} - only ${count} left!`)
    },
    onSoldOut: (name) => {
      toast.error(`${name} is now sold out`)
    }
  })
  
  // Check if specific ticket is available
  const canPurchase = isTicketAvailable(ticketId)
  
  // Get actual available count
  const available = getActualAvailable(ticketId)
}

function TicketCard({ eventId, ticketId }) {
  const { 
    available, 
    isSoldOut,
    percentageSold,
    isConnected 
  } = useSingleTicketAvailability(eventId, ticketId)
  
  return (
    <div>
      {isSoldOut ? 'Sold Out' : `${available} available`}
    </div>
  )
}

export { TicketSelection, TicketCard };
