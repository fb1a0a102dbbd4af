import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { InputError } from '../../lib/runtime/errors';
import { defaultStateDir, InstanceConflict, shellExports, StateDir, upstreamEnv } from '../../lib/runtime/state-dir';

describe('state dir', () => {
  test('writes state.json, upstreams.env (Nomad-style names), the inetrc, hosts and peers files, reads back, removes what it wrote', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-state-')), 'shop-orders');
    const sd = new StateDir(dir);
    sd.create();
    sd.lock();
    sd.writeInetrc('{lookup, [file, native]}.\n');
    sd.writeHosts('127.0.0.1 h.x\n');
    sd.writePeers(['c@h3.x', 'b@h2.x']);
    expect(fs.readFileSync(sd.peersPath, 'utf8')).toBe('b@h2.x\nc@h3.x\n');
    expect(fs.readFileSync(sd.hostsPath, 'utf8')).toBe('127.0.0.1 h.x\n');
    const state = {
      node: 'a@h.x',
      serviceId: 'shop-a',
      helperPid: 1,
      epmdPort: 4370,
      distPort: 9100,
      sidecarPort: 21000,
      upstreams: [{ node: 'b@h2.x', service: 'shop-b', address: '127.0.0.2', port: 19001 }],
      inetrc: sd.inetrcPath,
    };
    sd.writeState(state);
    expect(sd.readState()).toEqual(state);
    const env = fs.readFileSync(path.join(dir, 'upstreams.env'), 'utf8');
    expect(env).toContain("export MESHX_UPSTREAM_SHOP_B_ADDR='127.0.0.2:19001'");
    expect(env).toContain("export ERL_EPMD_PORT='4370'");
    sd.remove();
    expect(fs.existsSync(dir)).toBe(false);
    expect(() => sd.readState()).toThrow(/no state.json in .*shop-orders: is 'meshx-node run' running/);
  });

  test('shell quoting survives quotes', () => {
    expect(shellExports({ A: "it's" })).toBe("export A='it'\\''s'\n");
    expect(upstreamEnv([{ node: 'b@h', service: 'my-svc', address: '127.0.0.2', port: 1 }])).toEqual({
      MESHX_UPSTREAM_MY_SVC_ADDR: '127.0.0.2:1',
      MESHX_UPSTREAM_MY_SVC_IP: '127.0.0.2',
      MESHX_UPSTREAM_MY_SVC_PORT: '1',
    });
  });
});

describe('state dir on a shared host', () => {
  const root = () => fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-sd-'));

  test('default location: /run for root; per user otherwise, never the shared temp dir', () => {
    expect(defaultStateDir('svc', {}, 0, '/root')).toBe('/run/meshx-node/svc');
    expect(defaultStateDir('svc', { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000, '/home/u')).toBe('/run/user/1000/meshx-node/svc');
    expect(defaultStateDir('svc', { HOME: '/home/u' }, 1000, '/home/u')).toBe('/home/u/.local/state/meshx-node/svc');
    expect(defaultStateDir('svc', { TMPDIR: '/tmp' }, 1000, '/home/u')).not.toMatch(/^\/tmp/);
  });

  test('refuses a dir owned by another user, group/other-writable, a symlink, or under a non-sticky world-writable parent (exit 2)', () => {
    const r = root();
    const other = path.join(r, 'other');
    fs.mkdirSync(other, { mode: 0o700 });
    fs.chownSync(other, 65534, 65534);
    const open = path.join(r, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o770);
    const link = path.join(r, 'link');
    fs.symlinkSync(open, link);
    const shared = path.join(r, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    const cases: Array<[string, RegExp]> = [
      [other, /owned by uid 65534, not by this user/],
      [open, /group or others can write to it \(mode 0770\)/],
      [link, /is a symbolic link/],
      [path.join(shared, 'svc'), /parent .*shared is world-writable without the sticky bit/],
    ];
    for (const [dir, reason] of cases) {
      let err: any;
      try {
        new StateDir(dir).create();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toContain(`--state-dir: refusing ${dir}: `);
      expect(err.message).toMatch(reason);
    }
  });

  test('never writes through a symlink: a planted link is replaced, its target untouched', () => {
    const r = root();
    const dir = path.join(r, 'svc');
    const sd = new StateDir(dir);
    sd.create();
    const victim = path.join(r, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    for (const f of ['inetrc', 'hosts', 'peers', 'state.json', 'upstreams.env', '.inetrc.' + process.pid + '.tmp'])
      fs.symlinkSync(victim, path.join(dir, f));
    sd.writeInetrc('{lookup, [file, native]}.\n');
    sd.writeHosts('127.0.0.1 h.x\n');
    sd.writePeers([]);
    sd.writeState({ node: 'a@h.x', serviceId: 'svc', helperPid: 1, epmdPort: 1, distPort: 2, sidecarPort: 3, upstreams: [], inetrc: sd.inetrcPath });
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    for (const f of ['inetrc', 'hosts', 'peers', 'state.json', 'upstreams.env']) expect(fs.lstatSync(path.join(dir, f)).isFile()).toBe(true);
  });

  test('lock: exclusive while its helper lives, a dead helper\'s lock is taken over, remove only by the holder', () => {
    const dir = path.join(root(), 'svc');
    const first = new StateDir(dir);
    first.create();
    first.lock();
    expect(fs.readFileSync(first.lockPath, 'utf8').trim()).toBe(String(process.pid));
    // A second StateDir in this process stands for a second helper: our pid is alive.
    const second = new StateDir(dir);
    expect(() => second.lock()).toThrow(InstanceConflict);
    second.remove();
    expect(fs.existsSync(first.lockPath)).toBe(true);
    first.remove();
    expect(fs.existsSync(dir)).toBe(false);
    // Stale: the pid of a process that is gone.
    const gone = spawnSync('true').pid!;
    const third = new StateDir(dir);
    third.create();
    fs.writeFileSync(third.lockPath, `${gone}\n`);
    third.lock();
    expect(fs.readFileSync(third.lockPath, 'utf8').trim()).toBe(String(process.pid));
    third.remove();
  });
});
