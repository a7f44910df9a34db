/** Called with an event id after a change to its availability has committed. */
export type AvailabilityListener = (eventId: string) => void;

/** Called with a holder id (a token's `sub`) after a change to their own holds, waiting-list or waiting-room entries has committed. */
export type HolderListener = (holderId: string) => void;
