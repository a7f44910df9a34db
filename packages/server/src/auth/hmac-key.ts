import { webcrypto } from 'node:crypto';

/**
 * An HS256 secret as a WebCrypto key, imported once. Given raw bytes, jose
 * imports them again for every token it signs or verifies: a third of a
 * verification's CPU time. Access tokens (TokenVerifier) and queue passes
 * (QueuePasses) both keep theirs this way.
 */
export function hmacKey(secret: Uint8Array): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}
