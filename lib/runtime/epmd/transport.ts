/**
 * How the EPMD server accepts connections, reads requests and writes answers: the EPMD logic
 * (server.ts) is the same over either transport.
 */

/** One client connection. */
export interface EpmdConnection {
  /**
   * Writes bytes and keeps the connection open (ALIVE2_RESP: the registration stays). A failed
   * write closes the connection, reported through `closed` later, never from inside this call.
   */
  write(data: Buffer): void;
  /**
   * Writes a one-shot answer, then closes, as epmd does: the answer is never cut, not even by the
   * client's half-close.
   */
  reply(data: Buffer): void;
  /** Closes now, without waiting for anything. Idempotent. */
  close(): void;
  /** Sends small writes at once (registrations, like epmd). */
  setNoDelay(): void;
}

/** What a listener calls; one object per listener, so no closure per connection. */
export interface ConnectionHandler {
  /** A connection was accepted (close it to refuse it). */
  connection(conn: EpmdConnection): void;
  /** Bytes arrived. `chunk` stays valid after the call. */
  data(conn: EpmdConnection, chunk: Buffer): void;
  /** The connection is gone (either side, or an error); called once per connection. */
  closed(conn: EpmdConnection): void;
}

/** A listening socket. */
export interface EpmdListener {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/** A way to listen on TCP. */
export interface EpmdTransport {
  /** `net` (node:net sockets) or `handle` (libuv TCP handles, without net.Socket). */
  readonly name: string;
  /** Listens on address:port (0: any free port). Rejects with a Node system error (`code` set). */
  listen(address: string, port: number, handler: ConnectionHandler): Promise<EpmdListener>;
}
