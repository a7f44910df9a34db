import { ApiError } from '@ticketpulse/client';
import { httpRequest, refusedHere, type HttpRequestOptions } from './http-request.ts';
import { forgetBuyerToken, getBuyerToken, getOrganizerToken } from './session.ts';

export { ApiError };

/** Who a request speaks for: nobody, this tab's buyer (minted on demand), or the signed-in organizer. */
export type Auth = 'none' | 'buyer' | 'organizer';

/** Options of one API call: an HTTP request, and whom it speaks for. */
export interface RequestOptions extends HttpRequestOptions {
  auth?: Auth;
}

async function tokenFor(auth: Auth): Promise<string | null> {
  if (auth === 'buyer') return getBuyerToken();
  if (auth === 'organizer') {
    const token = getOrganizerToken();
    if (!token) throw refusedHere('unauthorized', 401);
    return token;
  }
  return null;
}

/**
 * A call as this tab's buyer: a buyer token the server no longer accepts (a
 * restarted demo with a new secret) is replaced once, and the call made again.
 */
export async function asBuyer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ApiError && (error.code === 'invalid_token' || error.code === 'token_expired'))) throw error;
    forgetBuyerToken();
    return call();
  }
}

/** JSON over fetch, same origin. Errors become ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const call = async () => httpRequest<T>(path, options, await tokenFor(options.auth ?? 'none'));
  return options.auth === 'buyer' ? asBuyer(call) : call();
}
