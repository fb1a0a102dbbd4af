// What live host maps rest on since the helper answers DNS, proven on the installed OTP with a
// stock BEAM and `inet:getaddr` (no Erlang code of ours): given our inetrc, inet_db asks the
// helper's loopback responder (over TCP, and no one else), keeps neither its answers (TTL 0)
// nor its NXDOMAINs, so a host added to the map resolves at once and a removed one stops
// resolving through dns at once; -sname hosts (no dots) are asked as they are.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hostMap, hostsFile, inetrc } from '../../lib/runtime/beam-env';
import { DnsServer } from '../../lib/runtime/dns/server';
import { EpmdServer } from '../../lib/runtime/epmd/server';
import { StateDir } from '../../lib/runtime/state-dir';
import { MeshNode } from '../../support/mesh-node';

jest.setTimeout(120_000);

const peer = (host: string, address: string) => ({ node: `app@${host}`, service: 'p', address, port: 1 });

describe.each([
  ['-name', 'probe@self.dns.test', 'newpeer.dns.test', ''],
  ['-sname', 'probe@selfhost', 'newpeer', ''],
  // A host whose name has a domain: inet_db's domain is set (here by the inetrc, as inet_config
  // does from the host name), and a dot-less name must still be asked as it is.
  ['-sname, the host has a domain', 'probe@selfhost', 'newpeer', '{domain, "corp.example"}.\n'],
])('a running BEAM (%s) resolves through the helper\'s DNS responder', (flag, own, peerHost, before) => {
  let dir: string;
  let epmd: EpmdServer;
  let dns: DnsServer;
  let beam: MeshNode;
  let state: StateDir;
  const lookup = `inet:getaddr("${peerHost}", inet)`;
  const viaDns = `inet_res:getbyname("${peerHost}", a)`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-dns-'));
    state = new StateDir(dir);
    dns = new DnsServer();
    await dns.start();
    dns.setHosts(hostMap(own, []));
    // The hosts file never gets the peer here: what resolves it is the responder alone.
    state.writeHosts(hostsFile(own, []));
    state.writeInetrc(before + inetrc(state.hostsPath, dns.port));
    epmd = new EpmdServer({ port: 0, addresses: ['127.0.0.1'], peers: [] });
    await epmd.start();
    beam = MeshNode.plain(own, [flag.split(',')[0], own, '-setcookie', 'dns-probe', '-start_epmd', 'false'], {
      ...process.env,
      ERL_EPMD_PORT: String(epmd.port),
      ERL_INETRC: state.inetrcPath,
    });
  });

  afterAll(async () => {
    beam?.child.stdin?.end();
    await beam?.stop('SIGKILL');
    await epmd?.close();
    await dns?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('inet_db takes our nameserver alone, TCP, the search list and the lookup order from the inetrc', async () => {
    expect((await beam.eval('node()')).replace(/'/g, '')).toBe(own);
    expect(await beam.eval('inet_db:res_option(nameservers)')).toBe(`[{{127,0,0,1},${dns.port}}]`);
    expect(await beam.eval('inet_db:res_option(alt_nameservers)')).toBe('[]');
    expect(await beam.eval('inet_db:res_option(resolv_conf)')).toBe('[]');
    expect(await beam.eval('inet_db:res_option(search)')).toBe('["."]');
    expect(await beam.eval('inet_db:res_option(usevc)')).toBe('true');
    expect(await beam.eval('inet_db:res_option(lookup)')).toBe('[file,dns,native]');
    expect(await beam.eval(`inet:getaddr("${own.split('@')[1]}", inet)`)).toBe('{ok,{127,0,0,1}}');
  });

  test('a host added to the map resolves at the first lookup after it (NXDOMAIN was not kept; the hosts file never had it)', async () => {
    expect(await beam.eval(viaDns)).toBe('{error,nxdomain}');
    expect(await beam.eval(lookup)).toBe('{error,nxdomain}');
    dns.setHosts(hostMap(own, [peer(peerHost, '127.0.0.9')]));
    expect(await beam.eval(lookup)).toBe('{ok,{127,0,0,9}}');
    expect(await beam.eval(`inet:getaddr("${peerHost.toUpperCase()}", inet)`)).toBe('{ok,{127,0,0,9}}');
  });

  test('answers are not cached (TTL 0): a moved host resolves to its new address at once', async () => {
    dns.setHosts(hostMap(own, [peer(peerHost, '127.0.0.10')]));
    expect(await beam.eval(lookup)).toBe('{ok,{127,0,0,10}}');
    expect(await beam.eval('ets:info(inet_cache, size)')).toBe('0');
  });

  test('a removed host stops resolving through dns at once', async () => {
    dns.setHosts(hostMap(own, []));
    expect(await beam.eval(viaDns)).toBe('{error,nxdomain}');
    expect(await beam.eval(lookup)).toBe('{error,nxdomain}');
  });

  test('AAAA for a host in the map: an answer without an address (not a timeout)', async () => {
    dns.setHosts(hostMap(own, [peer(peerHost, '127.0.0.9')]));
    expect(await beam.eval(`inet_res:getbyname("${peerHost}", aaaa)`)).toBe('{error,nxdomain}');
  });
});

test('with the responder gone, dns fails fast (connection refused) and the lookup falls through', async () => {
  const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-dns-'));
  const dns = new DnsServer();
  await dns.start();
  const port = dns.port;
  await dns.close();
  const state = new StateDir(dir);
  state.writeHosts(hostsFile('probe@gone.dns.test', []));
  state.writeInetrc(inetrc(state.hostsPath, port));
  const beam = MeshNode.plain('nonode', ['-noinput'], { ...process.env, ERL_INETRC: state.inetrcPath });
  try {
    // Refused, not a timeout: the lookup does not wait out inet_res's timeout.
    expect(await beam.eval('inet_res:getbyname("somewhere.dns.test", a)')).toBe('{error,econnrefused}');
    expect(await beam.eval('inet:getaddr("gone.dns.test", inet)')).toBe('{ok,{127,0,0,1}}');
  } finally {
    beam.child.stdin?.end();
    await beam.stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
