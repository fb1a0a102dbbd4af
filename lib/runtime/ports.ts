import * as net from 'node:net';

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

/**
 * A free port on `address` that is not in `taken` ("address:port" entries): the kernel may hand
 * back a port just probed and released, so two upstreams on one peer address could otherwise get
 * the same listener (the agent refuses such a registration). Adds the pick to `taken`.
 */
export async function pickFreePort(address: string, taken: Set<string>): Promise<number> {
  for (let attempt = 0; attempt < 32; attempt++) {
    const p = await probeFreePort(address);
    if (!taken.has(`${address}:${p}`)) {
      taken.add(`${address}:${p}`);
      return p;
    }
  }
  throw Object.assign(new Error(`no free port on ${address} outside the ${taken.size} already picked`), { code: 'EADDRINUSE' });
}

/**
 * Resolves a manifest port: 0 picks a free one (not in `taken`, when given), a fixed one must be
 * free. The error names the field and the port.
 */
export async function resolvePort(field: string, address: string, port: number, taken?: Set<string>): Promise<number> {
  try {
    if (port === 0 && taken) return await pickFreePort(address, taken);
    return await probeFreePort(address, port);
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
