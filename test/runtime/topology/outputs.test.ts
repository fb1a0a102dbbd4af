import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateManifest } from '../../../lib/manifest/validate';
import { StateDir } from '../../../lib/runtime/state-dir';
import { LiveFiles, versionOf } from '../../../lib/runtime/topology/outputs';
import { validManifest } from '../../fixtures/manifests';

describe('live outputs', () => {
  test('versionOf: the same manifest has the same digest; the index only when known', () => {
    const m = validateManifest(validManifest());
    const a = versionOf(m, 'kv:k', 12);
    expect(a).toMatchObject({ source: 'kv:k', index: 12, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(versionOf(validateManifest(validManifest()), 'kv:k').sha256).toBe(a.sha256);
    expect(versionOf(m, 'file.json')).not.toHaveProperty('index');
  });

  test("LiveFiles: the DNS responder's host map, hosts, peers, state.json (with the live version), upstreams.env from the version in force", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-outputs-'));
    const m = validateManifest(validManifest());
    const stateDir = new StateDir(dir);
    const maps: Array<Map<string, string>> = [];
    const dns = { port: 5353, setHosts: (h: Map<string, string>) => maps.push(h) };
    const registration = { manifest: m, ports: { distPort: 9100, sidecarPort: 21000, upstreams: [{ ...m.upstreams[1], port: 30002 }] } };
    new LiveFiles(stateDir, { registration, epmdPort: 4370, dns }, versionOf(m, 'kv:k', 3)).write();
    expect(maps.map((h) => [...h])).toEqual([
      [
        ['orders-1.shop.test', '127.0.0.1'],
        ['stock-1.shop.test', '127.0.0.3'],
      ],
    ]);
    expect(fs.readFileSync(path.join(dir, 'hosts'), 'utf8')).toBe(
      '# meshx-node: host map of orders@orders-1.shop.test\n127.0.0.1 orders-1.shop.test\n127.0.0.3 stock-1.shop.test\n',
    );
    expect(fs.readFileSync(path.join(dir, 'peers'), 'utf8')).toBe('stock@stock-1.shop.test\n');
    const s = stateDir.readState();
    expect(s).toMatchObject({
      node: m.node,
      epmdPort: 4370,
      dnsPort: 5353,
      hosts: path.join(dir, 'hosts'),
      version: { index: 3 },
      upstreams: [{ node: 'stock@stock-1.shop.test', port: 30002 }],
    });
    expect(fs.readFileSync(path.join(dir, 'upstreams.env'), 'utf8')).toContain("MESHX_UPSTREAM_SHOP_STOCK_PORT='30002'");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
