// What a Socket.IO shop ships to the browser to receive room broadcasts: the client-size baseline.
export { io } from 'socket.io-client';
