import * as net from 'node:net';

/** Where the metrics endpoint listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** A loopback address (127.0.0.0/8, ::1, localhost): reachable from this host only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

/**
 * `HOST:PORT`, `[IPV6]:PORT`, `:PORT` or `PORT`; without a host, 127.0.0.1. A host that is not
 * loopback is the operator's explicit choice (metrics reachable from other hosts). HOST is an IP
 * address or localhost: a name that resolves elsewhere would listen where nobody looked.
 * Throws a message naming what is wrong (the caller names the flag).
 */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not HOST:PORT, [IPV6]:PORT or PORT`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port ${m[3]} is not within 1-65535`);
  if (m[1] !== undefined && !net.isIPv6(host)) throw new Error(`'${host}' is not an IPv6 address`);
  if (m[1] === undefined && host !== 'localhost' && !net.isIPv4(host)) {
    throw new Error(`'${host}' is not an IPv4 address, [IPv6] address or localhost`);
  }
  return { host, port };
}

/** As a URL's host part. */
export function formatAddress(a: ListenAddress): string {
  return `${net.isIPv6(a.host) ? `[${a.host}]` : a.host}:${a.port}`;
}
