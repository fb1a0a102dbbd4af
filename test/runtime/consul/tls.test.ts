import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentTlsOptions, explainTlsError, hasTlsSettings, loadTlsMaterial, tlsCliEnv } from '../../../lib/runtime/consul/tls';
import { InputError } from '../../../lib/runtime/errors';

const TLS = path.join(__dirname, '..', '..', 'fixtures', 'tls');
const f = (n: string) => path.join(TLS, n);

describe('agentTlsOptions', () => {
  test("flags win over the environment; Consul's variable names", () => {
    const env = {
      CONSUL_CACERT: 'env-ca',
      CONSUL_CAPATH: 'env-dir',
      CONSUL_CLIENT_CERT: 'env-cert',
      CONSUL_CLIENT_KEY: 'env-key',
      CONSUL_TLS_SERVER_NAME: 'env-name',
    };
    expect(agentTlsOptions({}, env)).toEqual({
      caFile: 'env-ca',
      caPath: 'env-dir',
      clientCert: 'env-cert',
      clientKey: 'env-key',
      serverName: 'env-name',
      verify: true,
    });
    expect(agentTlsOptions({ caFile: 'a', clientCert: 'c', clientKey: 'k', tlsServerName: 'n' }, env)).toMatchObject({
      caFile: 'a',
      clientCert: 'c',
      clientKey: 'k',
      serverName: 'n',
    });
    expect(hasTlsSettings(agentTlsOptions({}, {}))).toBe(false);
  });

  test('CONSUL_HTTP_SSL_VERIFY=false turns verification off; anything but true/false is refused', () => {
    expect(agentTlsOptions({}, { CONSUL_HTTP_SSL_VERIFY: 'false' }).verify).toBe(false);
    expect(agentTlsOptions({}, { CONSUL_HTTP_SSL_VERIFY: 'true' }).verify).toBe(true);
    expect(() => agentTlsOptions({}, { CONSUL_HTTP_SSL_VERIFY: 'maybe' })).toThrow(/\$CONSUL_HTTP_SSL_VERIFY must be true or false, got 'maybe'/);
  });

  test('a client certificate needs its key and the other way round (input errors)', () => {
    expect(() => agentTlsOptions({ clientCert: 'c' }, {})).toThrow(InputError);
    expect(() => agentTlsOptions({ clientCert: 'c' }, {})).toThrow(/--client-cert \(or \$CONSUL_CLIENT_CERT\) needs --client-key/);
    expect(() => agentTlsOptions({}, { CONSUL_CLIENT_KEY: 'k' })).toThrow(/--client-key \(or \$CONSUL_CLIENT_KEY\) needs --client-cert/);
  });
});

describe('loadTlsMaterial', () => {
  test('reads the CA file, every PEM of a CA dir, the client pair', () => {
    const m = loadTlsMaterial({
      caFile: f('consul-agent-ca.pem'),
      caPath: path.join(TLS, 'other'),
      clientCert: f('dc1-cli-consul-0.pem'),
      clientKey: f('dc1-cli-consul-0-key.pem'),
      serverName: 'server.dc1.consul',
    });
    expect(m.ca).toHaveLength(3);
    expect(m.cert).toMatch(/BEGIN CERTIFICATE/);
    expect(m.key).toMatch(/PRIVATE KEY/);
    expect(m).toMatchObject({ servername: 'server.dc1.consul', rejectUnauthorized: true });
  });

  test('unreadable or non-PEM files name the flag', () => {
    expect(() => loadTlsMaterial({ caFile: '/nonexistent/ca.pem' })).toThrow(/^--ca-file: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
    expect(() => loadTlsMaterial({ clientCert: f('dc1-cli-consul-0.pem'), clientKey: f('dc1-cli-consul-0.pem') })).toThrow(
      /--client-key: .* holds no PEM private key/,
    );
    expect(() => loadTlsMaterial({ caFile: f('README.md') })).toThrow(/--ca-file: .* holds no PEM certificate/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-capath-'));
    expect(() => loadTlsMaterial({ caPath: empty })).toThrow(/--ca-path: .* holds no .pem or .crt file with a certificate/);
    fs.rmSync(empty, { recursive: true });
  });
});

test('tlsCliEnv gives a consul CLI child the same settings, as absolute paths, never contents', () => {
  const env = tlsCliEnv({ caFile: 'ca.pem', clientCert: 'c.pem', clientKey: 'k.pem', serverName: 'n', verify: false });
  expect(env).toEqual({
    CONSUL_CACERT: path.resolve('ca.pem'),
    CONSUL_CLIENT_CERT: path.resolve('c.pem'),
    CONSUL_CLIENT_KEY: path.resolve('k.pem'),
    CONSUL_TLS_SERVER_NAME: 'n',
    CONSUL_HTTP_SSL_VERIFY: 'false',
  });
  expect(tlsCliEnv({})).toEqual({});
});

describe('explainTlsError', () => {
  const err = (code: string, message = code) => Object.assign(new Error(message), { code });
  test('names the setting behind each failure', () => {
    expect(explainTlsError(err('SELF_SIGNED_CERT_IN_CHAIN'), { caFile: 'x' })).toMatch(/not trusted by the CA given \(--ca-file/);
    expect(explainTlsError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), {})).toMatch(/: none given\)/);
    expect(explainTlsError(err('ERR_TLS_CERT_ALTNAME_INVALID'), {})).toMatch(/--tls-server-name/);
    expect(explainTlsError(err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), {})).toMatch(/requires a client certificate/);
    expect(explainTlsError(err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), { clientCert: 'c', clientKey: 'k' })).toMatch(
      /refused our client certificate/,
    );
    expect(explainTlsError(err('EPROTO', 'routines:ssl3_get_record:wrong version number'), {})).toMatch(/does not speak TLS/);
    expect(explainTlsError(err('ECONNRESET'), {})).toMatch(/closed the TLS connection.*: none given\)/);
    expect(explainTlsError(err('ECONNREFUSED'), {})).toBeUndefined();
  });

  test('names the file and the reason: unknown CA, an expired agent certificate, a client certificate the agent does not trust', () => {
    const ca = { caFile: '/etc/meshx/ca.pem' };
    expect(explainTlsError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), ca)).toMatch(/: \/etc\/meshx\/ca\.pem\): unknown CA, UNABLE/);
    expect(explainTlsError(err('CERT_HAS_EXPIRED'), {})).toMatch(/^the agent's certificate has expired \(its cert_file must be renewed/);
    const cli = require('node:path').join(__dirname, '..', '..', 'fixtures', 'tls', 'dc1-cli-consul-0.pem');
    expect(explainTlsError(err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), { clientCert: cli, clientKey: 'k' })).toBe(
      `the agent refused our client certificate ${cli} (--client-cert, $CONSUL_CLIENT_CERT): ` +
        'is it signed by the CA the agent trusts (its ca_file)?: TLS alert unknown ca',
    );
  });
});
