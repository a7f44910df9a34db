import type { ReactElement } from 'react';

/** What the examples passed to `toast`, in order. */
export declare const toasts: Array<{ kind: 'warning' | 'error'; message: string }>;
/** Sets TicketSelection's `ticketId` and forgets earlier toasts. */
export declare function prepareSeedExamples(ticketId: string): void;
/** Renders nothing: the design's snippet ends before its markup. */
export declare function TicketSelection(props: { eventId: string }): undefined;
export declare function TicketCard(props: { eventId: string; ticketId: string }): ReactElement;
