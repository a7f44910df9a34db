/** Called with an event id after a change to its availability has committed. */
export type AvailabilityListener = (eventId: string) => void;
