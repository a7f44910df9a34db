// Types only, erased at build time: the schemas they are inferred from stay behind
// '@ticketpulse/protocol/schemas', so a client importing from here bundles no zod.
export type * from './availability.ts';
export type * from './http.ts';
export type * from './personal.ts';
export type * from './queue.ts';
export type * from './realtime.ts';
export type * from './waitlist.ts';
export { EXPIRING_SOON_SECONDS } from './personal.ts';
export type * from './push.ts';
export { CloseCode, type CloseCodeValue } from './close-codes.ts';
export { QUEUE_PASS_HEADER } from './headers.ts';
export { byDisplayOrder, compareText } from './display-order.ts';
export { availabilityStatusOf, isBuyable, percentageSold, type EventSaleState, type TicketTypeStock } from './availability-rules.ts';
export { queueFigures, ticketsLikelyEnough, type QueueFigures, type TicketsLikelyEnough } from './queue-figures.ts';
