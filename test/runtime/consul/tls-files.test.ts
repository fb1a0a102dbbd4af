import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TlsFiles } from '../../../lib/runtime/consul/tls-files';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'tls');
const fixture = (n: string) => fs.readFileSync(path.join(FIXTURES, n), 'utf8');

describe('TlsFiles', () => {
  let dir: string;
  let clock: number;
  let logs: string[];
  const file = (n: string) => path.join(dir, n);
  const files = (cert: string, key: string) => {
    fs.writeFileSync(file('cli.pem'), fixture(cert));
    fs.writeFileSync(file('cli-key.pem'), fixture(key));
  };
  const make = () =>
    new TlsFiles({ caFile: file('ca.pem'), clientCert: file('cli.pem'), clientKey: file('cli-key.pem') }, (m) => logs.push(m), 1000, () => clock);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-tls-files-'));
    fs.writeFileSync(file('ca.pem'), fixture('consul-agent-ca.pem'));
    files('other/dc1-cli-consul-0.pem', 'other/dc1-cli-consul-0-key.pem');
    clock = 0;
    logs = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads the files at start; nothing changed: nothing read again', () => {
    const t = make();
    expect(t.current.cert).toBe(fixture('other/dc1-cli-consul-0.pem'));
    clock = 5000;
    expect(t.reload()).toBeUndefined();
    expect(logs).toEqual([]);
  });

  test('a renewed certificate is read again, after the interval or at once when forced, and named', () => {
    const t = make();
    files('dc1-cli-consul-0.pem', 'dc1-cli-consul-0-key.pem');
    clock = 500;
    expect(t.reload()).toBeUndefined(); // within the interval: no stat
    const forced = t.reload(true);
    expect(forced?.cert).toBe(fixture('dc1-cli-consul-0.pem'));
    expect(forced?.key).toBe(fixture('dc1-cli-consul-0-key.pem'));
    expect(t.current).toBe(forced);
    expect(logs).toEqual([`TLS files changed on disk, read again: --client-cert ${file('cli.pem')}, --client-key ${file('cli-key.pem')}`]);
    clock = 3000;
    expect(t.reload()).toBeUndefined();
  });

  test('a CA file replaced by a rename is read again (new inode)', () => {
    const t = make();
    fs.writeFileSync(file('ca.new'), fixture('other/consul-agent-ca.pem'));
    fs.renameSync(file('ca.new'), file('ca.pem'));
    clock = 1000;
    expect(t.reload()?.ca).toEqual([fixture('other/consul-agent-ca.pem')]);
    expect(logs[0]).toMatch(/read again: --ca-file .*ca\.pem$/);
  });

  test('a certificate written before its key: kept the old pair, said once, used when the key follows', () => {
    const t = make();
    const before = t.current;
    fs.writeFileSync(file('cli.pem'), fixture('dc1-cli-consul-0.pem'));
    clock = 1000;
    expect(t.reload()).toBeUndefined();
    clock = 2000;
    expect(t.reload()).toBeUndefined();
    expect(t.current).toBe(before);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/TLS files changed \(--client-cert .*cli\.pem\) but cannot be used yet, keeping the ones read before: .*key values mis/);
    fs.writeFileSync(file('cli-key.pem'), fixture('dc1-cli-consul-0-key.pem'));
    clock = 3000;
    expect(t.reload()?.cert).toBe(fixture('dc1-cli-consul-0.pem'));
  });

  test('a file removed: kept the old material, the flag and the reason named', () => {
    const t = make();
    fs.rmSync(file('cli-key.pem'));
    clock = 1000;
    expect(t.reload()).toBeUndefined();
    expect(logs[0]).toMatch(/--client-key: cannot read .*cli-key\.pem \(ENOENT\)/);
  });

  test('an expired replacement certificate is not switched to: the one in force stays, the file and its expiry named', () => {
    const t = make();
    const before = t.current;
    const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'cli-key.pem', '-out', 'c.csr', '-subj', '/CN=old']);
    ossl(['x509', '-req', '-in', 'c.csr', '-signkey', 'cli-key.pem', '-out', 'cli.pem', '-days', '-1']);
    clock = 1000;
    expect(t.reload()).toBeUndefined();
    expect(t.current).toBe(before);
    expect(logs[0]).toMatch(new RegExp(`cannot be used yet, keeping the ones read before: --client-cert ${file('cli.pem')} expired at \\d{4}-`));
  });

  test('a new certificate in --ca-path is seen', () => {
    fs.mkdirSync(file('cas'));
    fs.writeFileSync(path.join(file('cas'), 'a.pem'), fixture('consul-agent-ca.pem'));
    const t = new TlsFiles({ caPath: file('cas') }, (m) => logs.push(m), 1000, () => clock);
    fs.writeFileSync(path.join(file('cas'), 'b.crt'), fixture('other/consul-agent-ca.pem'));
    clock = 1000;
    expect(t.reload()?.ca).toHaveLength(2);
  });
});

test('certificateNotValidNow names an expired certificate with its date (openssl -days -1)', () => {
  const { certificateNotValidNow } = require('../../../lib/runtime/consul/tls') as typeof import('../../../lib/runtime/consul/tls');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-expired-'));
  try {
    const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.csr', '-subj', '/CN=old']);
    ossl(['x509', '-req', '-in', 'c.csr', '-signkey', 'k.pem', '-out', 'c.pem', '-days', '-1']);
    expect(certificateNotValidNow(path.join(dir, 'c.pem'))).toMatch(/^expired at \d{4}-\d\d-\d\dT/);
    expect(certificateNotValidNow(path.join(FIXTURES, 'dc1-cli-consul-0.pem'))).toBeUndefined();
    expect(certificateNotValidNow(path.join(dir, 'missing.pem'))).toBeUndefined();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
