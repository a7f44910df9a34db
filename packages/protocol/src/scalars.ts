/** Field formats that several wire shapes share. */
import { z } from 'zod';

export const isoTime = z.string().describe('ISO 8601 timestamp');
/** Money is never a float: a decimal string with at most two decimals, e.g. "45.00". */
export const decimal = z.string().regex(/^\d{1,10}(\.\d{1,2})?$/, 'a decimal amount such as "45.00"');
// A sum of prices: more digits than one price may have, always two decimals.
export const amount = z.string().regex(/^\d+\.\d{2}$/, 'an exact decimal amount such as "139.93"');
/** How clients name an event, over HTTP and the realtime protocol alike. */
export const idOrSlug = z.string().min(1).max(100).regex(/^[A-Za-z0-9-]+$/, 'an event id or slug');
