export type * from './availability.ts';
export type * from './realtime.ts';
export type * from './http.ts';
export { CloseCode } from './realtime.ts';
