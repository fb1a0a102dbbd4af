import { beamEnvironment, companionEnvironment, findDistOverride, findEpmdBypass, hostMap, hostsFile, inetrc } from '../../lib/runtime/beam-env';
import { validManifest } from '../fixtures/manifests';

describe('BEAM environment', () => {
  const o = { node: 'orders@orders-1.shop.test', epmdPort: 4370, distPort: 9100, inetrcPath: '/run/x/inetrc', stateDir: '/run/x' };

  test('points the BEAM at our EPMD and host map, pins distribution to one loopback port', () => {
    const env = beamEnvironment({ PATH: '/bin' }, o);
    expect(env).toEqual({
      PATH: '/bin',
      ERL_EPMD_PORT: '4370',
      ERL_INETRC: '/run/x/inetrc',
      ERL_AFLAGS: '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1} -kernel inet_dist_listen_min 9100 -kernel inet_dist_listen_max 9100',
      MESHX_NODE_NAME: 'orders@orders-1.shop.test',
      MESHX_EPMD_PORT: '4370',
      MESHX_DIST_PORT: '9100',
      MESHX_STATE_DIR: '/run/x',
    });
  });

  test("our flags go first in ERL_AFLAGS (the first -kernel value wins), the user's follow", () => {
    expect(beamEnvironment({ ERL_AFLAGS: '+S 2' }, o).ERL_AFLAGS).toMatch(/^-start_epmd false .* \+S 2$/);
  });

  test('companions (remote console, release rpc) get the EPMD and host map, listen on loopback, no pinned port', () => {
    expect(companionEnvironment({ epmdPort: 4370, inetrcPath: '/run/x/inetrc', node: 'a@b' })).toEqual({
      ERL_EPMD_PORT: '4370',
      ERL_INETRC: '/run/x/inetrc',
      ERL_AFLAGS: '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
      MESHX_NODE_NAME: 'a@b',
    });
  });

  test('inetrc: the hosts file, then our DNS responder alone (TCP, names as they are), then the system (path quoted as an Erlang string)', () => {
    expect(inetrc('/run/x/hosts', 5353)).toBe([
      "%% meshx-node: the host map, answered at once by the helper's loopback DNS (TCP) and kept in the hosts file",
      '{hosts_file, "/run/x/hosts"}.', '{resolv_conf, ""}.', '{nameserver, {127,0,0,1}, 5353}.', '{search, ["."]}.', '{usevc, true}.',
      '{lookup, [file, dns, native]}.', '',
    ].join('\n'));
    expect(inetrc('/run/a"b\\c/hosts', 1)).toContain('{hosts_file, "/run/a\\"b\\\\c/hosts"}.');
  });

  test("inetrc with the node's name: a domain, so a host-less long name does not reload the resolver", () => {
    expect(inetrc('/h', 1, 'rabbit@mq-1.mesh.test').split('\n').slice(-3)).toEqual(['{domain, "mesh.test"}.', '{lookup, [file, dns, native]}.', '']);
    expect(inetrc('/h', 1, 'rabbit@mq1')).toContain('{domain, "localdomain"}.');
  });

  test('host map: own host on 127.0.0.1, each peer host on its address (what the responder answers)', () => {
    expect([...hostMap('orders@orders-1.shop.test', validManifest().upstreams)]).toEqual([
      ['orders-1.shop.test', '127.0.0.1'],
      ['billing-1.shop.test', '127.0.0.2'],
      ['stock-1.shop.test', '127.0.0.3'],
    ]);
  });

  test('hosts file: own host on 127.0.0.1; each peer host on its address', () => {
    expect(hostsFile('orders@orders-1.shop.test', validManifest().upstreams)).toBe([
      '# meshx-node: host map of orders@orders-1.shop.test',
      '127.0.0.1 orders-1.shop.test',
      '127.0.0.2 billing-1.shop.test',
      '127.0.0.3 stock-1.shop.test',
      '',
    ].join('\n'));
  });

  test.each([
    [['erl', '-erl_epmd_port', '4370'], {}, /the command sets -erl_epmd_port/],
    [['erl'], { ERL_AFLAGS: '-kernel erl_epmd_node_listen_port 4370' }, /ERL_AFLAGS sets erl_epmd_node_listen_port/],
    [['erl'], { ERL_FLAGS: '-no_epmd' }, /ERL_FLAGS sets -no_epmd/],
    [['bin/app', 'foreground'], { ERL_DIST_PORT: '9100' }, /ERL_DIST_PORT is set/],
  ])('refuses what bypasses EPMD: %j %j', (cmd, env, msg) => {
    expect(findEpmdBypass(cmd, env)).toMatch(msg);
  });

  test('accepts an ordinary command', () => {
    expect(findEpmdBypass(['iex', '--name', 'a@b.c', '--erl', '-kernel inet_dist_listen_min 9000'], { ERL_AFLAGS: '+S 2' })).toBeUndefined();
  });

  test('refuses -kernel inet_dist_* flags that contradict the helper (listen address, port)', () => {
    expect(findDistOverride(['erl', '-kernel', 'inet_dist_listen_min', '9000'], {}, 9100)).toMatch(
      /the command sets -kernel inet_dist_listen_min 9000, which contradicts .*service.distPort 9100/,
    );
    expect(findDistOverride(['erl'], { ERL_FLAGS: '-kernel inet_dist_listen_max 9000' }, 0)).toMatch(
      /ERL_FLAGS sets -kernel inet_dist_listen_max 9000, .*picks at boot/,
    );
    expect(findDistOverride(['iex', '--erl', '-kernel inet_dist_use_interface {0,0,0,0}'], {}, 9100)).toMatch(
      /inet_dist_use_interface \{0,0,0,0\}: the helper keeps distribution on 127.0.0.1/,
    );
    // Saying the same as the helper is fine.
    expect(
      findDistOverride(
        ['erl', '-kernel', 'inet_dist_listen_min', '9100', 'inet_dist_listen_max', '9100', '-kernel', 'inet_dist_use_interface', '{127,0,0,1}'],
        {},
        9100,
      ),
    ).toBeUndefined();
    expect(findDistOverride(['erl', '-name', 'a@b'], { ERL_AFLAGS: '+S 2' }, 0)).toBeUndefined();
  });
});
