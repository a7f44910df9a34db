/**
 * A server-to-client WebSocket text frame (RFC 6455: FIN, opcode 1, no mask,
 * no compression), header and payload in one buffer. A frame many viewers
 * share is framed once and written to each socket as is: one write per
 * socket, where ws's send would build a header and write two chunks each time.
 */
/** A server-to-client ping (RFC 6455: FIN, opcode 9, no mask, no payload), the same bytes for every connection. */
export const PING_FRAME = Buffer.from([0x89, 0x00]);

export function encodeTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const headerBytes = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + n);
  frame[0] = 0x81;
  if (headerBytes === 2) frame[1] = n;
  else if (headerBytes === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(frame, headerBytes);
  return frame;
}
