import * as net from 'node:net';
import { answer, HostMap, indexHosts } from './answer';
import { MAX_QUERY_BYTES } from './codec';

export interface DnsServerOptions {
  /** Port on 127.0.0.1; 0 lets the kernel pick a free one. @default 0 */
  readonly port?: number;
  /** Connections served at once; more are closed at accept. @default 256 */
  readonly maxConnections?: number;
  /** A connection idle (no complete query) this long is closed. @default 5000 */
  readonly idleTimeoutMs?: number;
  /** Queries answered on one connection before it is closed (inet_res sends one). @default 64 */
  readonly maxQueriesPerConnection?: number;
}

const LOCAL = '127.0.0.1';
const EMPTY: Buffer = Buffer.alloc(0);

/**
 * The helper's DNS responder for its BEAM: TCP only (DNS over TCP, RFC 7766 framing), on
 * 127.0.0.1, answering from the live host map alone. TCP because the BEAM is told `usevc`: a
 * connection's answer cannot be injected by another local user the way a UDP datagram might.
 * The map is swapped whole by setHosts, so a query sees one version or the next, never a mix.
 */
export class DnsServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly maxQueries: number;
  private hosts = new Map<string, string>();
  private _port = 0;

  constructor(private readonly options: DnsServerOptions = {}) {
    this.maxConnections = options.maxConnections ?? 256;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 5000;
    this.maxQueries = options.maxQueriesPerConnection ?? 64;
    this.server = net.createServer((s) => this.onConnection(s));
    this.server.maxConnections = this.maxConnections;
  }

  /** The port listened on (after start). */
  public get port(): number {
    return this._port;
  }

  /** Open client connections. */
  public get connectionCount(): number {
    return this.sockets.size;
  }

  /** Replaces the host map; queries answered from now on see only the new one. */
  public setHosts(hosts: HostMap): void {
    this.hosts = indexHosts(hosts);
  }

  /** Listens on 127.0.0.1; rejects with the OS error (port in use, no loopback). */
  public start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: LOCAL, port: this.options.port ?? 0, exclusive: true }, () => {
        this.server.off('error', reject);
        this._port = (this.server.address() as net.AddressInfo).port;
        resolve(this._port);
      });
    });
  }

  /** Stops listening and closes every connection. */
  public close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }

  private onConnection(socket: net.Socket): void {
    if (this.sockets.size >= this.maxConnections) return void socket.destroy();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    socket.setNoDelay(true);
    let buf: Buffer = EMPTY;
    let answered = 0;
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      // Each turn takes one whole message off the front, so the loop ends with the buffer.
      while (buf.length >= 2 && !socket.destroyed) {
        const len = buf.readUInt16BE(0);
        if (len > MAX_QUERY_BYTES) return void socket.destroy();
        if (buf.length < 2 + len) return;
        const reply = answer(buf.subarray(2, 2 + len), this.hosts);
        buf = buf.subarray(2 + len);
        if (!reply || ++answered > this.maxQueries) return void socket.destroy();
        socket.write(frame(reply));
      }
    });
  }
}

/** The TCP length prefix (RFC 1035 §4.2.2). */
function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}
