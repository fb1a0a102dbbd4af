import { EventEmitter } from 'node:events';
import {
  Alive2Request,
  decodeRequest,
  encodeAlive2Response,
  encodeDumpResponse,
  encodeNamesResponse,
  encodePort2Error,
  encodePort2Response,
  Request,
} from './codec';
import { handleTransport } from './handle-transport';
import { netTransport } from './net-transport';
import { ConnectionHandler, EpmdConnection, EpmdListener, EpmdTransport } from './transport';

/** Where a peer's alive name, asked for on a given loopback address, is answered. */
export interface PeerRoute {
  /** Loopback address the peer's host maps to (the address the lookup arrives on). */
  readonly address: string;
  /** Alive part of the peer's node name (all PORT_PLEASE2 carries). */
  readonly alive: string;
  /** Local port of the sidecar upstream to the peer. */
  readonly port: number;
}

/** A node registered with ALIVE2 (the local BEAM, or a remote console / rpc node of a release). */
export interface Registration {
  readonly name: string;
  readonly port: number;
  readonly nodeType: number;
  readonly protocol: number;
  readonly highestVersion: number;
  readonly lowestVersion: number;
  readonly creation: number;
  /** ALIVE2 `extra`, returned as is in PORT2_RESP (as epmd does). */
  readonly extra: Buffer;
}

export interface EpmdServerOptions {
  /** Port to listen on, on every address; 0 picks one free on all of them. */
  readonly port: number;
  /** 127.0.0.1 (local registrations and lookups) plus one address per peer host. */
  readonly addresses: string[];
  readonly peers: PeerRoute[];
  /** The node's own alive name and distribution port: only that registration is accepted for it. */
  readonly own?: { readonly alive: string; readonly port: number };
  /** Connections served at once; more are closed at accept. @default 512 */
  readonly maxConnections?: number;
  /** A request must arrive complete within this time. @default 5000 */
  readonly requestTimeoutMs?: number;
  readonly log?: (msg: string) => void;
  /** Told of lookups, refused registrations and the peer routes in force (metrics). */
  readonly observer?: EpmdObserver;
  /** How connections are accepted and served. @default defaultTransport() */
  readonly transport?: EpmdTransport;
}

/** What the server tells its metrics. */
export interface EpmdObserver {
  lookup(result: 'peer' | 'local' | 'unknown'): void;
  refused(): void;
  peers(count: number): void;
}

/**
 * libuv TCP handles where this Node offers them (Node 20 to 24 do) without a deprecation warning,
 * else node:net; the environment variable MESHX_EPMD_TRANSPORT=net forces node:net.
 */
export function defaultTransport(env: NodeJS.ProcessEnv = process.env): EpmdTransport {
  return (env.MESHX_EPMD_TRANSPORT !== 'net' && handleTransport(env)) || netTransport;
}

interface Conn {
  readonly local: string;
  buf: Buffer;
  readonly since: number;
  handled: boolean;
  /** Set once ALIVE2 was accepted: the connection is the registration. */
  registration?: Registration;
}

const LOCAL = '127.0.0.1';
// Versions answered for peers: 6/5 works with OTP 23-28 peers (beam.md §1 PORT2_RESP).
const PEER_HIGHEST = 6;
const PEER_LOWEST = 5;
const NORMAL_NODE = 77;

/**
 * An EPMD that answers a stock BEAM on loopback: registrations (ALIVE2) on 127.0.0.1, and
 * PORT_PLEASE2 routed by (address asked on, alive name) to a local registration or to the
 * sidecar upstream of the peer whose host maps to that address.
 *
 * Emits `registered` and `unregistered` with a Registration.
 */
export class EpmdServer extends EventEmitter {
  private readonly servers: EpmdListener[] = [];
  /** Addresses listened on, the port's on each. */
  private readonly listening = new Set<string>();
  private readonly registrations = new Map<string, { reg: Registration; conn: EpmdConnection }>();
  /**
   * PORT2_RESP of each peer route by address, then alive name, encoded once: a route's answer
   * never changes (two maps, not one `address/alive` key: no string built per lookup).
   */
  private readonly peerIndex = new Map<string, Map<string, Buffer>>();
  /** Alive names routed to a peer on any address: never registrable locally. */
  private readonly routedNames = new Set<string>();
  private peers: PeerRoute[];
  private readonly maxConnections: number;
  private readonly requestTimeoutMs: number;
  private readonly log: (msg: string) => void;
  private readonly transport: EpmdTransport;
  // One map of per-connection state and one handler per listener: no closures or timers per
  // connection (a lookup is one short connection; its garbage shows in the p99).
  private readonly conns = new Map<EpmdConnection, Conn>();
  private sweeper?: NodeJS.Timeout;
  private creationCounter: number;
  private _port = 0;
  private closed = false;
  /** While set, answers for peer routes wait for it (holdPeerLookups). */
  private peerHold?: Promise<void>;

  constructor(private readonly options: EpmdServerOptions) {
    super();
    this.maxConnections = options.maxConnections ?? 512;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.log = options.log ?? (() => undefined);
    this.transport = options.transport ?? defaultTransport();
    this.peers = [];
    this.setPeers(options.peers);
    // Like epmd: start from the clock so a restarted node gets a new creation; never below 4.
    this.creationCounter = Math.max(4, Math.floor(Date.now() / 1000) % 0xfffffff0);
  }

  /**
   * Peer lookups wait until `until` settles (resolved or rejected), at most `maxMs`: a peer's
   * route points at a sidecar upstream listener, and a BEAM that dials before the proxy bound it
   * would get a refused connection (pang) instead of a late answer. Local lookups do not wait.
   */
  public holdPeerLookups(until: Promise<unknown>, maxMs: number): void {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs).unref()));
    const hold: Promise<void> = Promise.race([until.then(() => undefined, () => undefined), bound]).finally(() => {
      clearTimeout(timer);
      if (this.peerHold === hold) this.peerHold = undefined;
    });
    this.peerHold = hold;
  }

  /** The port the server listens on (after start). */
  public get port(): number {
    return this._port;
  }

  /** Currently open client connections. */
  public get connectionCount(): number {
    return this.conns.size;
  }

  /** The transport's name (`handle` or `net`). */
  public get transportName(): string {
    return this.transport.name;
  }

  /** Whether the deadline sweeper runs: only while a connection other than a registration is open. */
  public get sweeping(): boolean {
    return this.sweeper !== undefined;
  }

  /** Nodes currently registered. */
  public get registered(): Registration[] {
    return [...this.registrations.values()].map((r) => r.reg);
  }

  /** Replaces the peer routes (e.g. with the ports the agent reports in force). */
  public setPeers(peers: PeerRoute[]): void {
    this.peerIndex.clear();
    this.routedNames.clear();
    for (const p of peers) {
      const answer = { port: p.port, nodeType: NORMAL_NODE, protocol: 0, highestVersion: PEER_HIGHEST, lowestVersion: PEER_LOWEST, name: p.alive };
      const atAddress = this.peerIndex.get(p.address) ?? new Map<string, Buffer>();
      this.peerIndex.set(p.address, atAddress.set(p.alive, encodePort2Response(answer)));
      this.routedNames.add(p.alive);
    }
    this.peers = peers;
    this.options.observer?.peers(peers.length);
  }

  /** Listens on every address with one port; with port 0 retries until one is free on all. */
  public async start(): Promise<number> {
    const addresses = [LOCAL, ...this.options.addresses.filter((a) => a !== LOCAL)];
    const attempts = this.options.port === 0 ? 20 : 1;
    let lastError: Error | undefined;
    for (let i = 0; i < attempts; i++) {
      try {
        let port = this.options.port;
        for (const address of addresses) {
          const server = await this.transport.listen(address, port, this.handlerFor(address));
          this.servers.push(server);
          port = server.port;
          this.listening.add(address);
        }
        this._port = port;
        return port;
      } catch (e) {
        lastError = e as Error;
        this.listening.clear();
        await this.closeServers();
      }
    }
    const err = lastError as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new Error(`EPMD port ${this.options.port} is already in use (${err.message})`);
    throw new Error(`cannot start the EPMD server: ${err.message}`);
  }

  /** Addresses the server listens on. */
  public get addresses(): string[] {
    return [...this.listening];
  }

  /**
   * Listens on one more address, on the port in force (a peer host added while running).
   * Listeners are never taken away: a removed host's routes go, its address may come back.
   */
  public async addAddress(address: string): Promise<void> {
    if (this.listening.has(address) || this.closed) return;
    let server: EpmdListener;
    try {
      server = await this.transport.listen(address, this._port, this.handlerFor(address));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new Error(`EPMD port ${this._port} is already in use on ${address}`);
      throw new Error(`cannot listen on ${address}:${this._port}: ${err.message}`);
    }
    if (this.closed) {
      await server.close(); // closed while listening: nothing may outlive close()
      return;
    }
    this.servers.push(server);
    this.listening.add(address);
  }

  /** Stops listening and closes every connection (registrations included). */
  public async close(): Promise<void> {
    this.closed = true;
    this.stopSweeper();
    for (const c of [...this.conns.keys()]) c.close();
    await this.closeServers();
  }

  private async closeServers(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((s) => s.close()));
  }

  /** Each listener knows its address: no getsockname per connection. */
  private handlerFor(local: string): ConnectionHandler {
    return {
      connection: (conn) => this.onConnection(conn, local),
      data: (conn, chunk) => this.data(conn, chunk),
      closed: (conn) => this.gone(conn),
    };
  }

  private onConnection(conn: EpmdConnection, local: string): void {
    if (this.closed || this.conns.size >= this.maxConnections) {
      conn.close();
      return;
    }
    this.conns.set(conn, { local, buf: EMPTY, since: Date.now(), handled: false });
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.floor(this.requestTimeoutMs / 4)));
      this.sweeper.unref();
    }
  }

  private data(conn: EpmdConnection, chunk: Buffer): void {
    const c = this.conns.get(conn);
    if (!c) return;
    // Any byte after ALIVE2 is an error (epmd_srv.c): unregister.
    if (c.registration) return conn.close();
    if (c.handled) return;
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    const decoded = decodeRequest(c.buf);
    if (!decoded) return;
    c.handled = true;
    this.handle(conn, c.local, decoded.request, c.buf.length > decoded.used);
  }

  private gone(conn: EpmdConnection): void {
    const reg = this.conns.get(conn)?.registration;
    this.conns.delete(conn);
    if (reg && this.registrations.get(reg.name)?.conn === conn) {
      this.registrations.delete(reg.name);
      this.emit('unregistered', reg);
    }
  }

  /**
   * Closes connections whose request did not arrive within the deadline (idle or slow senders),
   * and answered ones whose client never closed; registrations stay.
   */
  private sweep(): void {
    const now = Date.now();
    let pending = 0;
    for (const [conn, c] of [...this.conns]) {
      if (c.registration) continue;
      if (now - c.since > (c.handled ? 2 * this.requestTimeoutMs : this.requestTimeoutMs)) conn.close();
      else pending++;
    }
    // Nothing left to watch (registrations stay open for good): stop waking an idle helper;
    // the next connection starts the sweeper again.
    if (pending === 0) this.stopSweeper();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private handle(conn: EpmdConnection, local: string, request: Request, trailing: boolean): void {
    switch (request.tag) {
      case 'alive2':
        if (local !== LOCAL || trailing) {
          conn.close();
          return;
        }
        this.register(conn, request.req);
        return;
      case 'port_please2':
        if (this.peerHold && this.peerIndex.get(local)?.has(request.name)) return this.replyAfterHold(conn, local, request.name);
        conn.reply(this.lookup(local, request.name));
        return;
      case 'names':
        conn.reply(encodeNamesResponse(this._port, this.namesAt(local)));
        return;
      case 'dump':
        if (local !== LOCAL) return void conn.close();
        conn.reply(encodeDumpResponse(this._port, this.namesAt(LOCAL)));
        return;
      case 'kill':
        // Nobody stops the helper through EPMD; epmd answers NO while nodes are alive.
        conn.reply(NO);
        return;
      case 'stop':
      case 'invalid':
        conn.close();
        return;
    }
  }

  /** Why a registration is refused, or undefined. A local process must not take over a route. */
  private refusal(req: Alive2Request): string | undefined {
    const own = this.options.own;
    // Releases name every node app@<host>: the node's own alive name may also be a peer's.
    if (own && req.name === own.alive) {
      if (req.port !== own.port) return `the node's own name registers only with its distribution port ${own.port}, not ${req.port}`;
    } else if (this.routedNames.has(req.name)) {
      return 'the name is routed to a peer';
    }
    if (this.registrations.has(req.name)) return 'already registered';
    return undefined;
  }

  private register(conn: EpmdConnection, req: Alive2Request): void {
    const refused = this.refusal(req);
    if (refused) {
      this.log(`refused a registration of '${req.name}' (port ${req.port}): ${refused}`);
      this.emit('refused', { name: req.name, port: req.port, reason: refused });
      this.options.observer?.refused();
      conn.reply(encodeAlive2Response(1, 99, req.highestVersion));
      return;
    }
    this.creationCounter = this.creationCounter >= 0xfffffff0 ? 4 : this.creationCounter + 1;
    const creation = req.highestVersion >= 6 ? this.creationCounter : (this.creationCounter % 3) + 1;
    const reg: Registration = {
      name: req.name,
      port: req.port,
      nodeType: req.nodeType,
      protocol: req.protocol,
      highestVersion: req.highestVersion,
      lowestVersion: req.lowestVersion,
      creation,
      extra: req.extra,
    };
    this.registrations.set(req.name, { reg, conn });
    this.conns.get(conn)!.registration = reg;
    conn.setNoDelay();
    conn.write(encodeAlive2Response(0, creation, req.highestVersion));
    this.emit('registered', reg);
  }

  /** A held peer lookup: answered (from the routes then in force) once the hold ends, if the client is still there. */
  private replyAfterHold(conn: EpmdConnection, local: string, name: string): void {
    void this.peerHold!.then(() => {
      if (!this.closed && this.conns.has(conn)) conn.reply(this.lookup(local, name));
    });
  }

  /** Peer routes first: a local registration can never shadow a peer (registration refuses them too). */
  private lookup(local: string, name: string): Buffer {
    const peer = this.peerIndex.get(local)?.get(name);
    const observer = this.options.observer;
    if (peer) {
      observer?.lookup('peer');
      return peer;
    }
    const r = local === LOCAL ? this.registrations.get(name) : undefined;
    observer?.lookup(r ? 'local' : 'unknown');
    return r ? encodePort2Response({ ...r.reg, name }) : encodePort2Error(1);
  }

  private namesAt(local: string): Array<{ name: string; port: number }> {
    if (local === LOCAL) return this.registered.map((r) => ({ name: r.name, port: r.port }));
    return this.peers.filter((p) => p.address === local).map((p) => ({ name: p.alive, port: p.port }));
  }
}

const EMPTY = Buffer.alloc(0);
const NO = Buffer.from('NO');
