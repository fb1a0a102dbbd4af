// The little of the DNS wire format (RFC 1035 §4) the helper's loopback responder needs: one
// question in, A records with TTL 0 out. Hand-written rather than dns-packet: this subset is
// ~100 lines, and the library adds about 1 MB to the helper's RSS (measured; the RSS goal is tight).

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

/** Longest query accepted: header, a 255-byte name, type, class, and room for an EDNS OPT record. */
export const MAX_QUERY_BYTES = 512;
const HEADER_BYTES = 12;
const MAX_NAME_BYTES = 255;

export interface Question {
  /** Labels joined by dots, as sent (case kept), no trailing dot; '' for the root. */
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  /** The question's bytes, echoed in the response. */
  readonly raw: Buffer;
}

/** What a response must echo of its query (RFC 1035 §4.1.1; inet_res checks id, opcode, RD, question). */
export interface QueryHeader {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
}

export type Query =
  | { readonly ok: true; readonly header: QueryHeader; readonly question: Question }
  /** Answerable with `rcode` (and no question); `header` is absent when there is nothing to answer. */
  | { readonly ok: false; readonly header?: QueryHeader; readonly rcode: number; readonly reason: string };

/** Decodes one DNS message (without the TCP length prefix) as a query with exactly one question. */
export function decodeQuery(msg: Buffer): Query {
  if (msg.length < HEADER_BYTES) return { ok: false, rcode: RCODE_FORMERR, reason: `message of ${msg.length} bytes is shorter than a header` };
  if (msg.length > MAX_QUERY_BYTES) return { ok: false, rcode: RCODE_FORMERR, reason: `message of ${msg.length} bytes is over ${MAX_QUERY_BYTES}` };
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return { ok: false, rcode: RCODE_FORMERR, reason: 'a response, not a query' };
  const header: QueryHeader = { id: msg.readUInt16BE(0), opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0 };
  if (header.opcode !== 0) return { ok: false, header, rcode: RCODE_NOTIMP, reason: `opcode ${header.opcode}` };
  const qdcount = msg.readUInt16BE(4);
  if (qdcount !== 1) return { ok: false, header, rcode: RCODE_FORMERR, reason: `${qdcount} questions` };
  const name = decodeName(msg, HEADER_BYTES);
  if (typeof name === 'string') return { ok: false, header, rcode: RCODE_FORMERR, reason: name };
  if (name.end + 4 > msg.length) return { ok: false, header, rcode: RCODE_FORMERR, reason: 'question cut short' };
  const raw = msg.subarray(HEADER_BYTES, name.end + 4);
  const question = { name: name.labels.join('.'), type: msg.readUInt16BE(name.end), klass: msg.readUInt16BE(name.end + 2), raw };
  return { ok: true, header, question };
}

/**
 * Reads an uncompressed name at `at` (a query has nothing to point back to); returns its labels
 * and where it ends, or why it is refused. Bounded by the 255-byte name limit.
 */
function decodeName(msg: Buffer, at: number): { labels: string[]; end: number } | string {
  const labels: string[] = [];
  let p = at;
  while (p - at < MAX_NAME_BYTES) {
    if (p >= msg.length) return 'name cut short';
    const len = msg[p];
    if (len === 0) return { labels, end: p + 1 };
    if (len > 63) return len >= 0xc0 ? 'compressed name in a question' : `label length ${len}`;
    if (p + 1 + len > msg.length) return 'label cut short';
    labels.push(msg.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return `name over ${MAX_NAME_BYTES} bytes`;
}

/**
 * A response to `header`: authoritative, no recursion available, the question echoed (when
 * there is one) and an A record per address, named by a pointer to the question's name, TTL 0
 * so that no resolver keeps it once the host map changes.
 */
export function encodeResponse(header: QueryHeader, rcode: number, question?: Question, addresses: string[] = []): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + (question?.raw.length ?? 0) + addresses.length * 16);
  out.writeUInt16BE(header.id, 0);
  // QR, opcode, AA, RD as asked; RA 0 (nothing is resolved elsewhere); rcode.
  out.writeUInt16BE(0x8000 | (header.opcode << 11) | 0x0400 | (header.rd ? 0x0100 : 0) | (rcode & 0xf), 2);
  out.writeUInt16BE(question ? 1 : 0, 4);
  out.writeUInt16BE(addresses.length, 6);
  let p = HEADER_BYTES;
  if (question) p += question.raw.copy(out, p);
  for (const a of addresses) {
    out.writeUInt16BE(0xc000 | HEADER_BYTES, p); // the question's name
    out.writeUInt16BE(TYPE_A, p + 2);
    out.writeUInt16BE(CLASS_IN, p + 4);
    out.writeUInt32BE(0, p + 6); // TTL
    out.writeUInt16BE(4, p + 10);
    a.split('.').forEach((octet, i) => out.writeUInt8(Number(octet), p + 12 + i));
    p += 16;
  }
  return out;
}

/** A query for `name` (tests and probes): one question, RD set. */
export function encodeQuery(id: number, name: string, type: number, klass = CLASS_IN): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0).map((l) => Buffer.from(l, 'latin1'));
  const qname = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
  const out = Buffer.alloc(HEADER_BYTES + qname.length + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100, 2);
  out.writeUInt16BE(1, 4);
  qname.copy(out, HEADER_BYTES);
  out.writeUInt16BE(type, HEADER_BYTES + qname.length);
  out.writeUInt16BE(klass, HEADER_BYTES + qname.length + 2);
  return out;
}

export interface Response {
  readonly id: number;
  readonly rcode: number;
  readonly aa: boolean;
  readonly question?: { name: string; type: number };
  readonly answers: Array<{ type: number; ttl: number; address: string }>;
}

/** Decodes a response this codec encodes (tests and probes): A answers named by a pointer. */
export function decodeResponse(msg: Buffer): Response {
  const flags = msg.readUInt16BE(2);
  let p = HEADER_BYTES;
  let question: Response['question'];
  if (msg.readUInt16BE(4) === 1) {
    const name = decodeName(msg, p);
    if (typeof name === 'string') throw new Error(name);
    question = { name: name.labels.join('.'), type: msg.readUInt16BE(name.end) };
    p = name.end + 4;
  }
  const answers: Response['answers'] = [];
  for (let i = 0; i < msg.readUInt16BE(6); i++, p += 16) {
    answers.push({ type: msg.readUInt16BE(p + 2), ttl: msg.readUInt32BE(p + 6), address: [...msg.subarray(p + 12, p + 16)].join('.') });
  }
  return { id: msg.readUInt16BE(0), rcode: flags & 0xf, aa: (flags & 0x0400) !== 0, question, answers };
}
