/** The queue pass a hold on a queued event carries (docs/waiting-room.md#passes); lower case, as Node's request headers are. */
export const QUEUE_PASS_HEADER = 'x-ticketpulse-queue-pass';
