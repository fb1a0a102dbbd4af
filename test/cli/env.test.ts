import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateDir } from '../../lib/runtime/state-dir';
import { cli } from '../fixtures/cli';

describe('meshx-node env', () => {
  test("prints a companion's environment from a running node's state, as sh or json", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-env-')), 'svc');
    const sd = new StateDir(dir);
    sd.create();
    sd.lock();
    try {
      sd.writeState({
        node: 'a@h.x',
        serviceId: 'svc',
        helperPid: process.pid,
        epmdPort: 4370,
        distPort: 9100,
        sidecarPort: 21000,
        upstreams: [],
        inetrc: sd.inetrcPath,
      });
      const json = JSON.parse((await cli(['env', '--state-dir', dir, '--format', 'json'])).out);
      expect(json).toEqual({
        ERL_EPMD_PORT: '4370',
        ERL_INETRC: sd.inetrcPath,
        ERL_AFLAGS: '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
        MESHX_NODE_NAME: 'a@h.x',
      });
      expect((await cli(['env', '--state-dir', dir])).out).toContain("export ERL_EPMD_PORT='4370'\n");
    } finally {
      sd.remove();
    }
  });
});
