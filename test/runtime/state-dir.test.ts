import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shellExports, StateDir, upstreamEnv } from '../../lib/runtime/state-dir';

describe('state dir', () => {
  test('writes state.json, upstreams.env (Nomad-style names) and the inetrc, reads back, removes what it wrote', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-state-')), 'shop-orders');
    const sd = new StateDir(dir);
    sd.create();
    sd.writeInetrc('{lookup, [file, native]}.\n');
    const state = { node: 'a@h.x', serviceId: 'shop-a', helperPid: 1, epmdPort: 4370, distPort: 9100, sidecarPort: 21000, upstreams: [{ node: 'b@h2.x', service: 'shop-b', address: '127.0.0.2', port: 19001 }], inetrc: sd.inetrcPath };
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
    expect(upstreamEnv([{ node: 'b@h', service: 'my-svc', address: '127.0.0.2', port: 1 }])).toEqual({ MESHX_UPSTREAM_MY_SVC_ADDR: '127.0.0.2:1', MESHX_UPSTREAM_MY_SVC_IP: '127.0.0.2', MESHX_UPSTREAM_MY_SVC_PORT: '1' });
  });
});
