import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findBeam, judgeBeam } from '../../lib/runtime/beam-judge';
import { listenersOn, procAddress } from '../../lib/runtime/proc-net';

const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0',
  '   1: 00000000:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0',
  '   2: 0100007F:2384 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 20 4 30 10 -1',
  '   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0000000000000000 100 0 0 10 0',
].join('\n');

describe('reading /proc/net/tcp', () => {
  test('addresses in host order, IPv4 and IPv6 (v4-mapped, any, others)', () => {
    expect(procAddress('0100007F')).toBe('127.0.0.1');
    expect(procAddress('00000000')).toBe('0.0.0.0');
    expect(procAddress('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
    expect(procAddress('00000000000000000000000000000000')).toBe('::');
    expect(procAddress('000080FE00000000FF005002FEFF1A00')).toBe('fe80:0:0:0:250:ff:1a:fffe');
  });

  test('listeners on one port: state 0A only, by inode', () => {
    expect([...listenersOn(TCP, 0x2384)]).toEqual([['111', '127.0.0.1'], ['222', '0.0.0.0']]);
    expect([...listenersOn(TCP, 0x1f90)]).toEqual([['444', '127.0.0.1']]);
    expect([...listenersOn(TCP, 1)]).toEqual([]);
  });
});

describe('judgeBeam', () => {
  let dir: string;
  let inetrc: string;
  const wants = () => ({ distPort: 9100, epmdPort: 4370, inetrcPath: inetrc });
  const beam = (over: Partial<{ listening: string[]; env: Record<string, string>; argv: string[] }> = {}) => ({
    pid: 42,
    listening: ['127.0.0.1'],
    env: { ERL_INETRC: inetrc, ERL_EPMD_PORT: '4370' },
    argv: ['beam.smp', '--', '-root', '/usr/lib/erlang'],
    ...over,
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-judge-'));
    inetrc = path.join(dir, 'inetrc');
    fs.writeFileSync(inetrc, '{lookup, [file, dns, native]}.\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('what the helper set: nothing to say', () => {
    expect(judgeBeam(beam(), wants())).toEqual([]);
  });

  test('a copy of the inetrc elsewhere passes; other contents are named with the link to make', () => {
    const copy = path.join(dir, 'copy');
    fs.copyFileSync(inetrc, copy);
    expect(judgeBeam(beam({ env: { ERL_INETRC: copy, ERL_EPMD_PORT: '4370' } }), wants())).toEqual([]);
    fs.writeFileSync(copy, '{lookup, [native]}.\n');
    expect(judgeBeam(beam({ env: { ERL_INETRC: copy, ERL_EPMD_PORT: '4370' } }), wants())).toEqual([
      `the start script sets ERL_INETRC=${copy}; link it to ${inetrc} (ln -sf ${inetrc} ${copy}) or leave ERL_INETRC as the helper sets it`,
    ]);
  });

  test('each other mismatch named: no inetrc, -erl_epmd_port, another ERL_EPMD_PORT, a listener off loopback', () => {
    const off = beam({ env: { ERL_EPMD_PORT: '4369' }, argv: ['beam.smp', '-erl_epmd_port', '4399'], listening: ['127.0.0.1', '0.0.0.0'] });
    const got = judgeBeam(off, wants());
    expect(got).toHaveLength(4);
    expect(got[0]).toMatch(/^the BEAM \(pid 42\) listens for distribution on 0\.0\.0\.0:9100, not 127\.0\.0\.1 only/);
    expect(got[1]).toMatch(/^the BEAM \(pid 42\) runs without ERL_INETRC/);
    expect(got[2]).toBe('the BEAM (pid 42) runs with -erl_epmd_port 4399, so it looks peers up without EPMD; remove it');
    expect(got[3]).toBe("the BEAM (pid 42) has ERL_EPMD_PORT=4369, not the helper's 4370; leave it as the helper sets it");
    expect(judgeBeam(beam({ env: { ERL_INETRC: inetrc } }), wants())).toEqual([
      "the BEAM (pid 42) runs without ERL_EPMD_PORT (its start script unsets it: port 4369), not the helper's 4370; leave it as the helper sets it",
    ]);
  });
});

describe('findBeam', () => {
  let proc: string;
  /** A process of a fake /proc: its parent, command line, environment and socket fds. */
  const fakeProcess = (pid: number, ppid: number, argv: string[], sockets: string[]) => {
    const dir = path.join(proc, String(pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'stat'), `${pid} (${path.basename(argv[0])}) S ${ppid} ${pid} ${pid} 0 -1`);
    fs.writeFileSync(path.join(dir, 'cmdline'), argv.join('\0') + '\0');
    fs.writeFileSync(path.join(dir, 'environ'), 'ERL_EPMD_PORT=4370\0');
    sockets.forEach((inode, fd) => fs.symlinkSync(`socket:[${inode}]`, path.join(dir, 'fd', String(fd + 3))));
  };

  beforeEach(() => {
    proc = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-proc-'));
    fs.mkdirSync(path.join(proc, 'net'));
    // 111 and 222 listen on the distribution port 0x2384, 444 on another port.
    fs.writeFileSync(path.join(proc, 'net', 'tcp'), TCP + '\n');
  });
  afterEach(() => fs.rmSync(proc, { recursive: true, force: true }));

  test('the command itself when it holds the listener (erl execs the BEAM)', () => {
    fakeProcess(100, 1, ['beam.smp', '--', '-name', 'a'], ['444', '111']);
    fakeProcess(101, 100, ['erl_child_setup', '1024'], ['222']);
    const argv = ['beam.smp', '--', '-name', 'a'];
    expect(findBeam(100, 0x2384, proc)).toEqual({ pid: 100, listening: ['127.0.0.1'], env: { ERL_EPMD_PORT: '4370' }, argv });
  });

  test("else the descendant that holds it (a start script's BEAM); none when no process does", () => {
    fakeProcess(100, 1, ['/bin/sh', 'bin/app', 'start'], ['444']);
    fakeProcess(101, 100, ['/bin/sh', 'erts/bin/erl'], []);
    fakeProcess(102, 101, ['beam.smp', '--'], ['111', '222']);
    fakeProcess(103, 1, ['beam.smp', '--', 'other'], []);
    expect(findBeam(100, 0x2384, proc)).toMatchObject({ pid: 102, listening: ['127.0.0.1', '0.0.0.0'] });
    expect(findBeam(103, 0x2384, proc)).toBeUndefined();
    expect(findBeam(100, 0x1111, proc)).toBeUndefined();
  });
});
