import { CLASS_IN, decodeQuery, encodeResponse, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED, TYPE_A, TYPE_ANY } from './codec';

/** Host name (any case, trailing dot or not) -> IPv4 address: the host map the BEAM resolves. */
export type HostMap = ReadonlyMap<string, string>;

/** The map's key for a host name: DNS names compare case-insensitively (RFC 4343). */
export function hostKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** A lookup table of `hosts` keyed by hostKey. */
export function indexHosts(hosts: HostMap): Map<string, string> {
  return new Map([...hosts].map(([h, a]) => [hostKey(h), a]));
}

/**
 * The answer to one query, from the host map alone (nothing is ever forwarded): A for a host
 * in the map; no data (NOERROR, empty) for its other types, AAAA included, so a resolver knows
 * the name exists; NXDOMAIN for any other name, at once; REFUSED for a class other than IN.
 * Undefined when the message cannot be answered at all (too short, or itself a response).
 */
export function answer(msg: Buffer, hosts: ReadonlyMap<string, string>): Buffer | undefined {
  const q = decodeQuery(msg);
  if (!q.ok) return q.header ? encodeResponse(q.header, q.rcode) : undefined;
  const { header, question } = q;
  if (question.klass !== CLASS_IN) return encodeResponse(header, RCODE_REFUSED, question);
  const address = hosts.get(hostKey(question.name));
  if (address === undefined) return encodeResponse(header, RCODE_NXDOMAIN, question);
  const wantsA = question.type === TYPE_A || question.type === TYPE_ANY;
  return encodeResponse(header, RCODE_NOERROR, question, wantsA ? [address] : []);
}
