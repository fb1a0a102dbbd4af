import { answer, hostKey, indexHosts } from '../../../lib/runtime/dns/answer';
import {
  CLASS_IN,
  decodeResponse,
  encodeQuery,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_REFUSED,
  TYPE_A,
  TYPE_AAAA,
  TYPE_ANY,
} from '../../../lib/runtime/dns/codec';

const hosts = indexHosts(new Map([['orders-1.Shop.test', '127.0.0.1'], ['billing-1.shop.test', '127.0.0.2'], ['stock', '127.0.0.3']]));
const ask = (name: string, type = TYPE_A, klass = CLASS_IN) => decodeResponse(answer(encodeQuery(42, name, type, klass), hosts)!);

describe('DNS answers from the host map', () => {
  test('A for a host in the map, FQDN or short, any case, trailing dot or not; TTL 0', () => {
    expect(ask('billing-1.shop.test')).toEqual({
      id: 42,
      rcode: RCODE_NOERROR,
      aa: true,
      question: { name: 'billing-1.shop.test', type: TYPE_A },
      answers: [{ type: TYPE_A, ttl: 0, address: '127.0.0.2' }],
    });
    expect(ask('ORDERS-1.shop.TEST').answers).toEqual([{ type: TYPE_A, ttl: 0, address: '127.0.0.1' }]);
    expect(ask('stock').answers[0].address).toBe('127.0.0.3');
    expect(ask('Stock').question?.name).toBe('Stock');
    expect(ask('stock', TYPE_ANY).answers[0].address).toBe('127.0.0.3');
  });

  test('NXDOMAIN for any other name (nothing is forwarded), with the question echoed', () => {
    const r = ask('example.com');
    expect(r).toMatchObject({ rcode: RCODE_NXDOMAIN, aa: true, answers: [], question: { name: 'example.com' } });
    expect(ask('billing-1').rcode).toBe(RCODE_NXDOMAIN);
    expect(ask('').rcode).toBe(RCODE_NXDOMAIN);
  });

  test('no data (NOERROR, no answer) for AAAA and other types of a host in the map', () => {
    expect(ask('billing-1.shop.test', TYPE_AAAA)).toMatchObject({ rcode: RCODE_NOERROR, answers: [] });
    expect(ask('billing-1.shop.test', 15)).toMatchObject({ rcode: RCODE_NOERROR, answers: [] });
    expect(ask('nope.shop.test', TYPE_AAAA).rcode).toBe(RCODE_NXDOMAIN);
  });

  test('REFUSED for a class other than IN; FORMERR / NOTIMP for malformed queries; nothing for garbage', () => {
    expect(ask('stock', TYPE_A, 3).rcode).toBe(RCODE_REFUSED);
    expect(decodeResponse(answer(Buffer.from('002a01000002000000000000', 'hex'), hosts)!).rcode).toBe(RCODE_FORMERR);
    expect(decodeResponse(answer(Buffer.from('002a29000001000000000000', 'hex'), hosts)!).rcode).toBe(RCODE_NOTIMP);
    expect(answer(Buffer.from('002a', 'hex'), hosts)).toBeUndefined();
  });

  test('hostKey: lower case, no trailing dot', () => {
    expect(hostKey('A.B.')).toBe('a.b');
  });
});
