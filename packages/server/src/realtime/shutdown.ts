import type { Duplex } from 'node:stream';
import { CloseCode } from '@ticketpulse/protocol';
import type { WebSocket } from 'ws';
import { encodeCloseFrame } from './text-frame.ts';

/** How a node closes: `exiting` when the process ends right after (`ticketpulse start` on SIGTERM). */
export interface CloseOptions {
  /**
   * The process exits once close resolves: client sockets are left for the
   * kernel to close at the exit, instead of one close per socket now. Without
   * it everything is closed before close resolves (tests, embedders).
   */
  exiting?: boolean;
}

/** A client's WebSocket and the TCP (or TLS) socket under it, which the close frame is written to as is. */
export interface ClientSocket {
  ws: WebSocket;
  wire: Duplex;
}

/** 1012 service restart, framed once for every socket of every endpoint. */
const RESTART_FRAME = encodeCloseFrame(CloseCode.serviceRestart, 'server restart');

/**
 * How long the frames may wait behind what slow consumers have not taken yet.
 * Clients' answers to the close are never waited for: the old node's exit is
 * what a reconnect storm waits on.
 */
export const RESTART_FLUSH_MS = 500;

/**
 * Tells every client that the node is restarting: stops reading each socket
 * (what clients send now, their answers to the close included, is not worth
 * parsing), writes the one shared 1012 close frame to it, and resolves once
 * the kernel has taken every frame, or after RESTART_FLUSH_MS. The sockets
 * stay open: the caller closes them, or leaves them to the process's exit.
 * A client reads the frame before the end of its connection, a FIN or a
 * reset alike (the reset when what it sent was left unread: Linux delivers
 * what it had received first).
 */
export function announceRestart(sockets: Iterable<ClientSocket>, flushMs = RESTART_FLUSH_MS): Promise<void> {
  return new Promise((resolve) => {
    // One for the loop itself, so that sockets whose writes complete at once cannot resolve it early.
    let unwritten = 1;
    const timer = setTimeout(resolve, flushMs);
    const written = () => {
      unwritten -= 1;
      if (unwritten > 0) return;
      clearTimeout(timer);
      resolve();
    };
    for (const { ws, wire } of sockets) {
      // Closing already (a close of its own under way, or gone): a second close frame would break the protocol.
      if (ws.readyState !== ws.OPEN || wire.destroyed) continue;
      ws.pause();
      unwritten += 1;
      // Called once the kernel has the frame (or the socket failed).
      wire.write(RESTART_FRAME, written);
    }
    written();
  });
}
