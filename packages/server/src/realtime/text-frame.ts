/**
 * A server-to-client WebSocket text frame (RFC 6455: FIN, opcode 1, no mask,
 * no compression), header and payload in one buffer. A frame many viewers
 * share is framed once and written to each socket as is: one write per
 * socket, where ws's send would build a header and write two chunks each time.
 */
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

/** A server-to-client ping (RFC 6455: FIN, opcode 9, no mask, no payload), the same bytes for every connection. */
export const PING_FRAME = Buffer.from([0x89, 0x00]);

/**
 * A server-to-client close frame (RFC 6455: FIN, opcode 8, no mask): the
 * code, then the reason (UTF-8, at most 123 bytes). Framed once and written to
 * every socket when the node shuts down.
 */
export function encodeCloseFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason);
  if (text.length > 123) throw new RangeError('A close reason is at most 123 bytes');
  const frame = Buffer.allocUnsafe(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
