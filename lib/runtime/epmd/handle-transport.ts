import * as util from 'node:util';
import { ConnectionHandler, EpmdConnection, EpmdListener, EpmdTransport } from './transport';

/*
 * EPMD over libuv TCP handles, the objects under net.Socket, without net.Socket itself.
 *
 * Why: a lookup is one short connection (accept, read 10 bytes, write 30, close). Measured on
 * this project's bench machine, net.Socket and its stream state cost ~26 µs of CPU per such
 * connection, the handles alone ~12 µs, as much as the C epmd; the EPMD code is ~2 µs of either.
 *
 * The handles are reached through process.binding (Node's allowlisted, documentation-deprecated
 * DEP0111 access). Their shape is checked once; anything unexpected (a Node that drops or changes
 * them, a permission model that refuses process.binding, --pending-deprecation or
 * NODE_PENDING_DEPRECATION=1, under which it would print a warning) selects the net transport. CI runs the EPMD tests on both transports
 * on every supported Node major.
 */

interface TcpHandle {
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: { port?: number }): number;
  readStart(): number;
  useUserBuffer(buffer: Buffer): void;
  writeBuffer(req: WriteReq, data: Buffer): number;
  setNoDelay(on: boolean): number;
  close(cb?: () => void): void;
  onconnection: ((status: number, client?: TcpHandle) => void) | null;
  onread: ((this: TcpHandle) => void) | null;
  conn?: HandleConnection;
}

interface WriteReq {
  handle: TcpHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  conn?: HandleConnection;
  /** The bytes of an asynchronous write: the binding keeps only a pointer to them. */
  buffer?: Buffer;
}

interface Bindings {
  TCP: new (type: number) => TcpHandle;
  SERVER: number;
  WriteWrap: new () => WriteReq;
  state: Int32Array;
  kRead: number;
  kAsync: number;
}

const BACKLOG = 511; // net.Server's default
const METHODS = ['bind', 'bind6', 'listen', 'getsockname', 'readStart', 'useUserBuffer', 'writeBuffer', 'setNoDelay', 'close'];
/**
 * Every connection reads into this one buffer (copied out before onRead returns): without it the
 * binding allocates a 64 KiB ArrayBuffer per read, for a 10-byte request.
 */
const READ_BUFFER = Buffer.alloc(64 * 1024);

/** The handle bindings, if this Node has them in the shape this module was written against. */
function load(): Bindings | undefined {
  const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
  if (typeof binding !== 'function') return undefined;
  try {
    const tcp = binding('tcp_wrap') as { TCP?: unknown; constants?: { SERVER?: unknown } };
    const stream = binding('stream_wrap') as Record<string, unknown>;
    const TCP = tcp.TCP as Bindings['TCP'] | undefined;
    const ok =
      typeof TCP === 'function' &&
      METHODS.every((m) => typeof (TCP.prototype as unknown as Record<string, unknown>)[m] === 'function') &&
      typeof tcp.constants?.SERVER === 'number' &&
      typeof stream.WriteWrap === 'function' &&
      // Not instanceof: the binding's realm may differ from the caller's (a vm context, jest).
      Object.prototype.toString.call(stream.streamBaseState) === '[object Int32Array]' &&
      ['kReadBytesOrError', 'kLastWriteWasAsync'].every((k) => typeof stream[k] === 'number');
    if (!ok) return undefined;
    return {
      TCP,
      SERVER: tcp.constants!.SERVER as number,
      WriteWrap: stream.WriteWrap as Bindings['WriteWrap'],
      state: stream.streamBaseState as Int32Array,
      kRead: stream.kReadBytesOrError as number,
      kAsync: stream.kLastWriteWasAsync as number,
    };
  } catch {
    return undefined; // e.g. refused by Node's permission model
  }
}

let b: Bindings;
/**
 * A write request object whose write completed at once. The binding attaches a native write to
 * the object only for a write that has to wait; until then it is a plain object and can be reused:
 * nearly every reply is written at once, so a lookup allocates none.
 */
let spareReq: WriteReq | undefined;

class HandleConnection implements EpmdConnection {
  private done = false;
  /** A reply is being written: its completion closes the connection, not the client's EOF. */
  public replying = false;

  constructor(public readonly handle: TcpHandle, public readonly handler: ConnectionHandler) {}

  public write(data: Buffer): void {
    this.send(data, afterWrite);
  }

  public reply(data: Buffer): void {
    this.replying = true;
    if (this.send(data, afterReply)) this.close();
  }

  public close(): void {
    if (this.done) return;
    this.done = true;
    this.handle.close(); // stops reading too (uv_close)
    this.handler.closed(this);
  }

  public setNoDelay(): void {
    this.handle.setNoDelay(true);
  }

  /** Queues a write; true when it completed at once (no callback follows). */
  private send(data: Buffer, oncomplete: WriteReq['oncomplete']): boolean {
    if (this.done) return false;
    const req = spareReq ?? new b.WriteWrap();
    spareReq = undefined;
    req.handle = this.handle;
    req.oncomplete = oncomplete;
    req.async = false;
    req.conn = this;
    if (this.handle.writeBuffer(req, data) !== 0) {
      // Reported closed on the next tick, as net.Socket does: never from inside write().
      process.nextTick(closeConn, this);
      return false;
    }
    if (b.state[b.kAsync] === 0) {
      // Written at once: the binding never bound a native write to the object, so it serves again.
      req.conn = undefined;
      spareReq = req;
      return true;
    }
    req.buffer = data; // kept alive until the write completes (as Node's own writeGeneric does)
    return false;
  }
}

function closeConn(conn: HandleConnection): void {
  conn.close();
}

function afterWrite(this: WriteReq, status: number): void {
  if (status < 0) this.conn!.close();
}

function afterReply(this: WriteReq): void {
  this.conn!.close();
}

function onRead(this: TcpHandle): void {
  const n = b.state[b.kRead];
  const conn = this.conn!;
  if (n > 0) conn.handler.data(conn, Buffer.from(READ_BUFFER.subarray(0, n)));
  // EOF or a read error; a reply being written still goes out whole (its completion closes).
  else if (n < 0 && !conn.replying) conn.close();
}

function systemError(syscall: string, errno: number, address: string, port: number): NodeJS.ErrnoException {
  const [code, text] = util.getSystemErrorMap().get(errno) ?? [`E${-errno}`, 'unknown error'];
  return Object.assign(new Error(`${syscall} ${code}: ${text} ${address}:${port}`), { code, errno, syscall });
}

function listen(address: string, port: number, handler: ConnectionHandler): Promise<EpmdListener> {
  const server = new b.TCP(b.SERVER);
  const bound = address.includes(':') ? server.bind6(address, port, 0) : server.bind(address, port);
  const err = bound || server.listen(BACKLOG);
  if (err) {
    server.close();
    return Promise.reject(systemError('listen', err, address, port));
  }
  server.onconnection = (status, client) => {
    if (status !== 0 || !client) return;
    const conn = new HandleConnection(client, handler);
    client.conn = conn;
    client.onread = onRead;
    client.useUserBuffer(READ_BUFFER);
    if (client.readStart() !== 0) {
      client.close();
      return;
    }
    handler.connection(conn);
  };
  const out: { port?: number } = {};
  server.getsockname(out);
  return Promise.resolve({
    port: out.port!,
    close: () => new Promise<void>((resolve) => server.close(resolve)),
  });
}

/** Whether Node would warn on process.binding (DEP0111 is a pending deprecation). */
function pendingDeprecation(env: NodeJS.ProcessEnv): boolean {
  return process.execArgv.includes('--pending-deprecation')
    || /--pending-deprecation\b/.test(env.NODE_OPTIONS ?? '')
    || env.NODE_PENDING_DEPRECATION === '1';
}

/**
 * The handle transport, or undefined where this Node does not offer the handles as expected or
 * would print a deprecation warning for reaching them.
 */
export function handleTransport(env: NodeJS.ProcessEnv = process.env): EpmdTransport | undefined {
  if (pendingDeprecation(env)) return undefined;
  const found = b ?? load();
  if (!found) return undefined;
  b = found;
  return { name: 'handle', listen };
}
