/**
 * The wire shapes as zod schemas, for whoever validates or serializes them
 * (the server). The main entry re-exports only the types inferred from
 * these, so clients that import types alone bundle no zod.
 */
export * from './availability.ts';
export * from './http.ts';
export * from './queue.ts';
export * from './realtime.ts';
export * from './scalars.ts';
export * from './waitlist.ts';
export * from './push.ts';
