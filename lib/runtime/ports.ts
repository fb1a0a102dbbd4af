import * as fs from 'node:fs';
import * as net from 'node:net';
import { ResolvedPorts } from './registration';

/** Binds address:port (0 = any) to learn or prove a port free, then releases it. */
export function probeFreePort(address: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: address, port, exclusive: true }, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** True when address:port can be bound right now. */
export async function isFree(address: string, port: number): Promise<boolean> {
  return probeFreePort(address, port).then(() => true, () => false);
}

/** The kernel's ephemeral port range (net.ipv4.ip_local_port_range). */
export function ephemeralRange(read: () => string = () => fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): [number, number] {
  try {
    const [lo, hi] = read().trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo && hi < 65536) return [lo, hi];
  } catch {
    // No procfs (or another kernel): Linux's default range.
  }
  return [32768, 60999];
}

/**
 * Where picked listener ports are drawn from: outside the ephemeral range, where the kernel puts
 * neither bind(0) nor the local end of an outgoing connection. Inside it, a port picked and
 * released at boot was taken before the proxy or the BEAM bound it: by another helper's bind(0)
 * (the kernel hands a just-released port out again) or by one of the many connections to the
 * agent (seen with 4 nodes a host: the BEAM exits at boot on eaddrinuse). Above the range
 * (61000-65535 with Linux's default) when there is room, else just below it, else inside it.
 */
export function listenerRange([lo, hi]: [number, number] = ephemeralRange()): [number, number] {
  if (hi <= 65535 - 256) return [hi + 1, 65535];
  if (lo >= 1024 + 256) return [Math.max(1024, lo - 4536), lo - 1];
  return [lo, hi];
}

/** A port held bound by the helper until its consumer (proxy or BEAM) is about to bind it. */
export interface Reservation {
  readonly address: string;
  readonly port: number;
  /** Closes the holding socket; idempotent. */
  release(): Promise<void>;
}

/** Picked ports held until their consumer binds them: the BEAM's, and the proxy's listeners. */
export class HeldPorts {
  public readonly dist: Reservation[] = [];
  public readonly proxy: Reservation[] = [];

  /** Releases the picks held for one consumer, right before it binds them. */
  public async release(which: 'dist' | 'proxy'): Promise<void> {
    await Promise.all(this[which].splice(0).map((r) => r.release()));
  }
}

/** What the ports step hands on: the ports resolved, Envoy's admin listener, the picks still held. */
export interface PortPicks {
  readonly ports: ResolvedPorts;
  /** Envoy's admin listener (`127.0.0.1:<port>`); undefined for the built-in proxy. */
  readonly adminBind?: string;
  readonly held: HeldPorts;
}

/** Binds address:port exclusively and keeps it; rejects when it cannot be bound. */
function hold(address: string, port: number): Promise<Reservation> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: address, port, exclusive: true, backlog: 1 }, () => {
      s.off('error', reject);
      // Nobody is served: a connection to a held port is closed at once.
      s.on('connection', (c) => c.destroy());
      let released: Promise<void> | undefined;
      resolve({ address, port, release: () => (released ??= new Promise<void>((r) => s.close(() => r()))) });
    });
  });
}

/**
 * A free port on `address` that is not in `taken` ("address:port" entries), drawn at random from
 * the listener range and held bound until released: while held, no other helper of the host
 * booting at the same moment can draw it (their probes find it bound). Adds it to `taken`.
 */
export async function reserveFreePort(address: string, taken: Set<string>, random: () => number = Math.random): Promise<Reservation> {
  const [lo, hi] = listenerRange();
  for (let attempt = 0; attempt < 64; attempt++) {
    const p = lo + Math.floor(random() * (hi - lo + 1));
    if (taken.has(`${address}:${p}`)) continue;
    const r = await hold(address, p).catch(() => undefined);
    if (!r) continue;
    taken.add(`${address}:${p}`);
    return r;
  }
  throw Object.assign(new Error(`no free port on ${address} outside the ${taken.size} already picked after 64 tries`), { code: 'EADDRINUSE' });
}

/** A free port as reserveFreePort draws it, released at once (its consumer binds it next). */
export async function pickFreePort(address: string, taken: Set<string>, random: () => number = Math.random): Promise<number> {
  const r = await reserveFreePort(address, taken, random);
  await r.release();
  return r.port;
}

/**
 * Resolves a manifest port: 0 picks a free one (not in `taken`), a fixed one must be free. The
 * error names the field and the port.
 */
export async function resolvePort(field: string, address: string, port: number, taken = new Set<string>()): Promise<number> {
  const r = await reservePort(field, address, port, taken);
  await r.held?.release();
  return r.port;
}

/** A port resolved for a field; `held` when it was picked (bound until its consumer binds it). */
export interface PortReserved {
  readonly port: number;
  readonly held?: Reservation;
}

/**
 * As resolvePort, but a picked port stays held (`held`) until its consumer is about to bind it;
 * a fixed one is only proven free (the manifest chose it: no other helper draws it).
 */
export async function reservePort(field: string, address: string, port: number, taken = new Set<string>()): Promise<PortReserved> {
  try {
    if (port === 0) {
      const held = await reserveFreePort(address, taken);
      return { port: held.port, held };
    }
    return { port: await probeFreePort(address, port) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${field}: port ${port} on ${address} is ${code === 'EADDRINUSE' ? 'already in use' : `not usable (${code})`}`);
  }
}

/** True once something accepts a TCP connection on address:port. */
export function canConnect(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
