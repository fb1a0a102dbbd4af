import * as net from 'node:net';
import { ConnectionHandler, EpmdConnection, EpmdListener, EpmdTransport } from './transport';

const CONN = Symbol('epmd connection');
const HANDLER = Symbol('epmd handler');
type Tagged = net.Socket & { [CONN]: NetConnection; [HANDLER]: ConnectionHandler };

class NetConnection implements EpmdConnection {
  constructor(private readonly socket: net.Socket) {}

  public write(data: Buffer): void {
    this.socket.write(data);
  }

  /**
   * Write, then destroy in the write's callback: no half-close and no wait for the client's FIN,
   * two syscalls and an event-loop turn fewer per lookup than `end()`.
   */
  public reply(data: Buffer): void {
    const socket = this.socket;
    socket.write(data, () => socket.destroy());
  }

  public close(): void {
    this.socket.destroy();
  }

  public setNoDelay(): void {
    this.socket.setNoDelay(true);
  }
}

// Shared listeners (`this` is the socket): no closures per connection.
function onData(this: Tagged, chunk: Buffer): void {
  this[HANDLER].data(this[CONN], chunk);
}
function onClose(this: Tagged): void {
  this[HANDLER].closed(this[CONN]);
}
function onError(this: net.Socket): void {
  this.destroy();
}

/** node:net sockets: the portable transport, used where libuv handles are not reachable. */
export const netTransport: EpmdTransport = {
  name: 'net',
  listen(address: string, port: number, handler: ConnectionHandler): Promise<EpmdListener> {
    const server = net.createServer((socket) => {
      const tagged = socket as Tagged;
      tagged[CONN] = new NetConnection(socket);
      tagged[HANDLER] = handler;
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.on('data', onData);
      handler.connection(tagged[CONN]);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve({
          port: (server.address() as net.AddressInfo).port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  },
};
