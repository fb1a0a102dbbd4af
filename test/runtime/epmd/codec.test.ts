import {
  decodePort2Response,
  decodeRequest,
  encodeAlive2Request,
  encodeAlive2Response,
  encodeDumpResponse,
  encodeNamesResponse,
  encodePort2Error,
  encodePort2Response,
  encodePortPlease2Request,
} from '../../../lib/runtime/epmd/codec';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('EPMD codec (byte layouts from reference/beam.md)', () => {
  test('decodes the ALIVE2_REQ an OTP 25.2.3 node sends', () => {
    // body seen on the wire: 78 b0e9 4d 00 0006 0005 0003 617070 0000 (port 45289, hi 6, lo 5, "app")
    const body = hex('78 b0e9 4d 00 0006 0005 0003 617070 0000');
    const framed = Buffer.concat([hex('0010'), body]);
    expect(decodeRequest(framed)).toEqual({
      used: 18,
      request: {
        tag: 'alive2',
        req: { port: 45289, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'app', extra: Buffer.alloc(0) },
      },
    });
    expect(encodeAlive2Request({ port: 45289, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'app' })).toEqual(framed);
  });

  test('decodes PORT_PLEASE2_REQ 00 04 7a 61 70 70, with or without a trailing NUL', () => {
    expect(decodeRequest(hex('0004 7a 617070'))).toEqual({ used: 6, request: { tag: 'port_please2', name: 'app' } });
    expect(decodeRequest(hex('0005 7a 617070 00'))).toEqual({ used: 7, request: { tag: 'port_please2', name: 'app' } });
    // The name ends where the frame does, not where the buffer does.
    expect(decodeRequest(hex('0004 7a 617070 0004 7a'))).toEqual({ used: 6, request: { tag: 'port_please2', name: 'app' } });
    expect(encodePortPlease2Request('app')).toEqual(hex('0004 7a 617070'));
  });

  test('decodes NAMES_REQ 00 01 6e, DUMP, KILL and STOP', () => {
    expect(decodeRequest(hex('00016e'))!.request).toEqual({ tag: 'names' });
    expect(decodeRequest(hex('000164'))!.request).toEqual({ tag: 'dump' });
    expect(decodeRequest(hex('00016b'))!.request).toEqual({ tag: 'kill' });
    expect(decodeRequest(hex('000473 617070'))!.request).toEqual({ tag: 'stop', name: 'app' });
  });

  test('waits for the whole frame', () => {
    expect(decodeRequest(hex('00'))).toBeUndefined();
    expect(decodeRequest(hex('0004 7a 61'))).toBeUndefined();
  });

  test.each([
    ['empty request', '0000'],
    ['unknown tag', '0001 ff'],
    ['length over the cap', 'ffff 7a'],
    ['PORT_PLEASE2 without a name', '0001 7a'],
    ['PORT_PLEASE2 with only the trailing NUL', '0002 7a 00'],
    ['ALIVE2 too short', '0003 78 0001'],
    ['ALIVE2 zero-length name', '000d 78 b0e9 4d 00 0006 0005 0000 0000'],
    ['ALIVE2 name overrun', '000e 78 b0e9 4d 00 0006 0005 0009 61 0000'],
    ['ALIVE2 NUL in name', '0010 78 b0e9 4d 00 0006 0005 0003 610070 0000'],
    ['ALIVE2 extra length lies', '0010 78 b0e9 4d 00 0006 0005 0003 617070 0005'],
    ['ALIVE2 invalid UTF-8', '0010 78 b0e9 4d 00 0006 0005 0003 61ff70 0000'],
  ])('marks %s invalid', (_d, bytes) => {
    expect(decodeRequest(hex(bytes))!.request.tag).toBe('invalid');
  });

  test('ALIVE2_X_RESP for version 6 (v, result, u32 creation), ALIVE2_RESP for 5 (y, result, u16)', () => {
    expect(encodeAlive2Response(0, 0x01020304, 6)).toEqual(hex('76 00 01020304'));
    expect(encodeAlive2Response(0, 3, 5)).toEqual(hex('79 00 0003'));
    expect(encodeAlive2Response(1, 99, 6)).toEqual(hex('76 01 00000063'));
  });

  test('PORT2_RESP success and error', () => {
    const ok = encodePort2Response({ port: 9100, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'app' });
    expect(ok).toEqual(hex('77 00 238c 4d 00 0006 0005 0003 617070 0000'));
    expect(decodePort2Response(ok)).toEqual({
      result: 0,
      info: { port: 9100, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'app' },
    });
    expect(encodePort2Error()).toEqual(hex('77 01'));
    expect(decodePort2Response(hex('7701'))).toEqual({ result: 1 });
  });

  test('NAMES_RESP: u32 EPMD port then text lines', () => {
    expect(encodeNamesResponse(4369, [{ name: 'app', port: 9100 }])).toEqual(
      Buffer.concat([hex('00001111'), Buffer.from('name app at port 9100\n')]),
    );
  });

  test('DUMP_RESP: each chunk NUL-terminated', () => {
    const b = encodeDumpResponse(4369, [{ name: 'a', port: 1 }]);
    expect(b.subarray(4).toString()).toBe('active name     <a> at port 1, fd = 0\n\0');
  });
});
