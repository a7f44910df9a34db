/** A fresh Idempotency-Key: a UUID where the runtime has one (Node, secure browser contexts), 32 random hex digits otherwise. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID?.() ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
