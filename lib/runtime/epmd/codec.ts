// EPMD wire format (erts/doc/guides/erl_dist_protocol.md; ../shared/reference/beam.md §1).
// Requests are `Len:16 | Body`; responses are not length-framed.

export const ALIVE2_REQ = 120; // 'x'
export const ALIVE2_RESP = 121; // 'y' (16-bit creation)
export const ALIVE2_X_RESP = 118; // 'v' (32-bit creation, OTP 23+)
export const PORT_PLEASE2_REQ = 122; // 'z'
export const PORT2_RESP = 119; // 'w'
export const NAMES_REQ = 110; // 'n'
export const DUMP_REQ = 100; // 'd'
export const KILL_REQ = 107; // 'k'
export const STOP_REQ = 115; // 's'

/** Longest request body accepted: ALIVE2 with a 255-byte name and some extra. */
export const MAX_REQUEST_BYTES = 1024;

/** The node description ALIVE2_REQ and PORT2_RESP share. */
export interface NodeInfo {
  readonly port: number;
  readonly nodeType: number;
  readonly protocol: number;
  readonly highestVersion: number;
  readonly lowestVersion: number;
  readonly name: string;
  readonly extra?: Buffer;
}

export interface Alive2Request extends NodeInfo {
  readonly extra: Buffer;
}

export type Request =
  | { readonly tag: 'alive2'; readonly req: Alive2Request }
  | { readonly tag: 'port_please2'; readonly name: string }
  | { readonly tag: 'names' }
  | { readonly tag: 'dump' }
  | { readonly tag: 'kill' }
  | { readonly tag: 'stop'; readonly name: string }
  | { readonly tag: 'invalid'; readonly reason: string };

/**
 * Takes one framed request off the front of `buf`. Returns undefined while incomplete, or the
 * request and how many bytes it used. An over-long length is `invalid` at once (no buffering).
 */
export function decodeRequest(buf: Buffer): { request: Request; used: number } | undefined {
  if (buf.length < 2) return undefined;
  const len = buf.readUInt16BE(0);
  if (len === 0) return { request: { tag: 'invalid', reason: 'empty request' }, used: 2 };
  if (len > MAX_REQUEST_BYTES) return { request: { tag: 'invalid', reason: `request length ${len} over ${MAX_REQUEST_BYTES}` }, used: buf.length };
  if (buf.length < 2 + len) return undefined;
  const body = buf.subarray(2, 2 + len);
  return { request: decodeBody(body), used: 2 + len };
}

function decodeBody(b: Buffer): Request {
  switch (b[0]) {
    case ALIVE2_REQ:
      return decodeAlive2(b);
    case PORT_PLEASE2_REQ: {
      // Old clients append a NUL. Offsets, not subarrays: this runs once per lookup.
      const end = b.length > 1 && b[b.length - 1] === 0 ? b.length - 1 : b.length;
      if (end <= 1) return { tag: 'invalid', reason: 'PORT_PLEASE2 without a name' };
      return { tag: 'port_please2', name: b.toString('utf8', 1, end) };
    }
    case NAMES_REQ:
      return { tag: 'names' };
    case DUMP_REQ:
      return { tag: 'dump' };
    case KILL_REQ:
      return { tag: 'kill' };
    case STOP_REQ:
      return { tag: 'stop', name: b.subarray(1).toString('utf8') };
    default:
      return { tag: 'invalid', reason: `unknown request tag ${b[0]}` };
  }
}

function decodeAlive2(b: Buffer): Request {
  // tag, port:16, type, proto, hi:16, lo:16, nlen:16, name, elen:16, extra
  if (b.length < 13) return { tag: 'invalid', reason: 'ALIVE2 too short' };
  const nlen = b.readUInt16BE(9);
  if (nlen === 0 || nlen > 255) return { tag: 'invalid', reason: `ALIVE2 name length ${nlen}` };
  if (b.length < 11 + nlen + 2) return { tag: 'invalid', reason: 'ALIVE2 name overruns the request' };
  const nameBytes = b.subarray(11, 11 + nlen);
  if (nameBytes.includes(0)) return { tag: 'invalid', reason: 'ALIVE2 name contains NUL' };
  const name = nameBytes.toString('utf8');
  if (Buffer.byteLength(name) !== nlen || name.includes('\ufffd')) return { tag: 'invalid', reason: 'ALIVE2 name is not UTF-8' };
  const elen = b.readUInt16BE(11 + nlen);
  if (b.length !== 11 + nlen + 2 + elen) return { tag: 'invalid', reason: 'ALIVE2 extra length does not match the request' };
  return {
    tag: 'alive2',
    req: {
      port: b.readUInt16BE(1),
      nodeType: b[3],
      protocol: b[4],
      highestVersion: b.readUInt16BE(5),
      lowestVersion: b.readUInt16BE(7),
      name,
      extra: Buffer.from(b.subarray(13 + nlen)),
    },
  };
}

/** Frames a request (used by tests and benchmarks as a client). */
export function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(2 + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, 2);
  return out;
}

/**
 * PortNo | NodeType | Protocol | HighestVersion | LowestVersion | Nlen | NodeName | Elen | Extra:
 * the layout ALIVE2_REQ and PORT2_RESP share.
 */
function encodeNodeInfo(info: NodeInfo): Buffer {
  const name = Buffer.from(info.name, 'utf8');
  const extra = info.extra ?? Buffer.alloc(0);
  const b = Buffer.alloc(12 + name.length + extra.length);
  b.writeUInt16BE(info.port, 0);
  b[2] = info.nodeType;
  b[3] = info.protocol;
  b.writeUInt16BE(info.highestVersion, 4);
  b.writeUInt16BE(info.lowestVersion, 6);
  b.writeUInt16BE(name.length, 8);
  name.copy(b, 10);
  b.writeUInt16BE(extra.length, 10 + name.length);
  extra.copy(b, 12 + name.length);
  return b;
}

export function encodeAlive2Request(r: NodeInfo): Buffer {
  return frame(Buffer.concat([Buffer.from([ALIVE2_REQ]), encodeNodeInfo(r)]));
}

export function encodePortPlease2Request(name: string): Buffer {
  return frame(Buffer.concat([Buffer.from([PORT_PLEASE2_REQ]), Buffer.from(name, 'utf8')]));
}

/** `v` + result + u32 creation when the node speaks version 6, else `y` + result + u16. */
export function encodeAlive2Response(result: number, creation: number, highestVersion: number): Buffer {
  if (highestVersion >= 6) {
    const b = Buffer.alloc(6);
    b[0] = ALIVE2_X_RESP;
    b[1] = result;
    b.writeUInt32BE(creation >>> 0, 2);
    return b;
  }
  const b = Buffer.alloc(4);
  b[0] = ALIVE2_RESP;
  b[1] = result;
  b.writeUInt16BE(creation & 0xffff, 2);
  return b;
}

export function encodePort2Response(info: NodeInfo): Buffer {
  return Buffer.concat([Buffer.from([PORT2_RESP, 0]), encodeNodeInfo(info)]);
}

export function encodePort2Error(result = 1): Buffer {
  return Buffer.from([PORT2_RESP, result]);
}

/** NAMES_RESP: the EPMD port the client was configured with, then one line per node. */
export function encodeNamesResponse(epmdPort: number, entries: Array<{ name: string; port: number }>): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(epmdPort, 0);
  return Buffer.concat([head, Buffer.from(entries.map((e) => `name ${e.name} at port ${e.port}\n`).join(''), 'utf8')]);
}

/** DUMP_RESP as epmd_srv.c writes it: each chunk followed by a NUL. */
export function encodeDumpResponse(epmdPort: number, entries: Array<{ name: string; port: number }>): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(epmdPort, 0);
  const body = entries.map((e) => `active name     <${e.name}> at port ${e.port}, fd = 0\n\0`).join('');
  return Buffer.concat([head, Buffer.from(body, 'utf8')]);
}

/** Parses a PORT2_RESP (client side, for tests and benchmarks). */
export function decodePort2Response(b: Buffer): { result: number; info?: NodeInfo } {
  if (b.length < 2 || b[0] !== PORT2_RESP) throw new Error(`not a PORT2_RESP: ${b.toString('hex')}`);
  if (b[1] !== 0) return { result: b[1] };
  const nlen = b.readUInt16BE(10);
  const elen = b.length >= 14 + nlen ? b.readUInt16BE(12 + nlen) : 0;
  return {
    result: 0,
    info: {
      ...(elen ? { extra: Buffer.from(b.subarray(14 + nlen, 14 + nlen + elen)) } : {}),
      port: b.readUInt16BE(2),
      nodeType: b[4],
      protocol: b[5],
      highestVersion: b.readUInt16BE(6),
      lowestVersion: b.readUInt16BE(8),
      name: b.subarray(12, 12 + nlen).toString('utf8'),
    },
  };
}
