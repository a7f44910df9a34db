export type * from './availability.ts';
export type * from './realtime.ts';
export { CloseCode } from './realtime.ts';
