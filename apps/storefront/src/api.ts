import { ApiError, httpRequest, refusedHere, type HttpRequestOptions } from './http-request.ts';
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
 * JSON over fetch, same origin. Errors become ApiError; a buyer token the
 * server no longer accepts (a restarted demo with a new secret) is replaced once.
 */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  try {
    return await httpRequest<T>(path, options, await tokenFor(options.auth ?? 'none'));
  } catch (error) {
    const rejected = error instanceof ApiError && (error.code === 'invalid_token' || error.code === 'token_expired');
    if (!rejected || options.auth !== 'buyer') throw error;
    forgetBuyerToken();
    return httpRequest<T>(path, options, await tokenFor('buyer'));
  }
}
