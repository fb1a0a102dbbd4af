import { epmdGuardWarnings } from '../../lib/runtime/epmd-guard';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
/** A /proc/net/tcp(6) table with one listener per address (hex as the kernel writes it) on port 4369 (0x1111). */
const row = (a: string, i: number) => `   ${i}: ${a}:1111 ${'0'.repeat(a.length)}:0000 0A 00000000:00000000 00:00000000 00000000 0 0 ${100 + i} 1`;
const table = (...addresses: string[]) => [HEADER, ...addresses.map(row)].join('\n');

describe("the host's default EPMD port", () => {
  test('guarded on loopback (127.0.0.1 and ::1): nothing to say', () => {
    expect(epmdGuardWarnings([table('0100007F'), table('00000000000000000000000001000000')])).toEqual([]);
  });

  test('open on every address (a stray epmd, Debian\'s dual-stack epmd.socket): named, with the fix', () => {
    const [v4] = epmdGuardWarnings([table('00000000'), '']);
    expect(v4).toMatch(/^this host's default EPMD port 4369 listens on 0\.0\.0\.0: a BEAM tool run here without `meshx-node env` registers there/);
    expect(v4).toContain('docs/works-with.md#stray-beam-tools-on-a-mesh-host');
    expect(epmdGuardWarnings(['', table('00000000000000000000000000000000')])[0]).toMatch(/listens on ::/);
  });

  test('nothing on 4369: a stray tool would start epmd on every address', () => {
    expect(epmdGuardWarnings([HEADER, HEADER])).toEqual([
      expect.stringMatching(/^nothing guards this host's default EPMD port 4369 on loopback: .* starts epmd on every address; see docs/),
    ]);
  });
});
