import {
  decodeQuery,
  decodeResponse,
  encodeQuery,
  encodeResponse,
  MAX_QUERY_BYTES,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  TYPE_A,
  TYPE_AAAA,
} from '../../../lib/runtime/dns/codec';

/** A query as OTP 25's inet_dns encodes `inet_res:getbyname("newpeer", a)` (id 0x1234, RD). */
const OTP_QUERY = Buffer.from('123401000001000000000000076e6577706565720000010001', 'hex');

describe('DNS codec', () => {
  test("decodes a query as inet_res sends it: id, opcode, RD, the one question (case kept)", () => {
    const q = decodeQuery(OTP_QUERY);
    expect(q).toEqual({
      ok: true,
      header: { id: 0x1234, opcode: 0, rd: true },
      question: { name: 'newpeer', type: TYPE_A, klass: 1, raw: OTP_QUERY.subarray(12) },
    });
    const mixed = decodeQuery(encodeQuery(7, 'NewPeer.Dns.Test', TYPE_AAAA));
    expect(mixed.ok && mixed.question).toMatchObject({ name: 'NewPeer.Dns.Test', type: TYPE_AAAA });
  });

  test('the root name decodes as the empty name', () => {
    const q = decodeQuery(encodeQuery(1, '', TYPE_A));
    expect(q.ok && q.question.name).toBe('');
  });

  test.each([
    ['shorter than a header', Buffer.alloc(11), undefined, /shorter than a header/],
    ['a response', Buffer.from('123481000001000000000000', 'hex'), undefined, /a response/],
    ['over the size limit', Buffer.concat([OTP_QUERY, Buffer.alloc(MAX_QUERY_BYTES)]), undefined, /over 512/],
    ['an opcode other than QUERY', Buffer.from('123411000001000000000000', 'hex'), RCODE_NOTIMP, /opcode 2/],
    [
      'two questions',
      Buffer.concat([Buffer.from('123401000002000000000000', 'hex'), OTP_QUERY.subarray(12), OTP_QUERY.subarray(12)]),
      RCODE_FORMERR,
      /2 questions/,
    ],
    ['no question', Buffer.from('123401000000000000000000', 'hex'), RCODE_FORMERR, /0 questions/],
    ['a compressed name', Buffer.from('123401000001000000000000c00c00010001', 'hex'), RCODE_FORMERR, /compressed/],
    ['a label cut short', Buffer.from('12340100000100000000000007616263', 'hex'), RCODE_FORMERR, /label cut short/],
    ['a name without its end', Buffer.from('1234010000010000000000000161', 'hex'), RCODE_FORMERR, /name cut short/],
    ['a question without type and class', Buffer.from('12340100000100000000000001610000', 'hex'), RCODE_FORMERR, /question cut short/],
    ['a label length over 63', Buffer.from('12340100000100000000000040', 'hex'), RCODE_FORMERR, /label length 64/],
  ])('refuses %s', (_what, msg, rcode, reason) => {
    const q = decodeQuery(msg);
    expect(q.ok).toBe(false);
    if (q.ok) return;
    expect(q.reason).toMatch(reason);
    expect(q.rcode).toBe(rcode ?? q.rcode);
    if (rcode === undefined) expect(q.header).toBeUndefined();
    else expect(q.header?.id).toBe(0x1234);
  });

  test('refuses a name over 255 bytes (the walk is bounded)', () => {
    const labels = Buffer.concat(Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])));
    const q = decodeQuery(Buffer.concat([Buffer.from('123401000001000000000000', 'hex'), labels, Buffer.from([0, 0, 1, 0, 1])]));
    expect(!q.ok && q.reason).toMatch(/over 255 bytes/);
  });

  test('encodes an authoritative answer: id, opcode and RD echoed, question echoed, A records with TTL 0 pointing at the question name', () => {
    const q = decodeQuery(OTP_QUERY);
    if (!q.ok) throw new Error('decode');
    const msg = encodeResponse(q.header, RCODE_NOERROR, q.question, ['127.0.0.9']);
    expect(msg.toString('hex')).toBe(
      '1234' + '8500' + '0001000100000000' + '076e6577706565720000010001' + 'c00c' + '0001' + '0001' + '00000000' + '0004' + '7f000009',
    );
    expect(decodeResponse(msg)).toEqual({
      id: 0x1234,
      rcode: 0,
      aa: true,
      question: { name: 'newpeer', type: TYPE_A },
      answers: [{ type: TYPE_A, ttl: 0, address: '127.0.0.9' }],
    });
  });

  test('an error response without a question, RD clear when the query had it clear', () => {
    const msg = encodeResponse({ id: 9, opcode: 2, rd: false }, RCODE_NOTIMP);
    expect(msg.toString('hex')).toBe('0009' + '9404' + '0000000000000000');
  });
});
