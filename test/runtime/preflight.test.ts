import { ProxyKind } from '../../lib/manifest/types';
import { InputError } from '../../lib/runtime/errors';
import { preflightCommand, preflightManifest, preflightProxy } from '../../lib/runtime/preflight';
import { validManifest } from '../fixtures/manifests';

describe('preflight (bad input is exit 2, before anything starts)', () => {
  const env = { PATH: process.env.PATH };

  test('the command: present, found on PATH, not bypassing EPMD', () => {
    expect(() => preflightCommand([], env)).toThrow(new InputError('no command to run: put the BEAM command after --, e.g. -- erl -name app@host'));
    expect(() => preflightCommand(['no-such-beam-xyz'], env)).toThrow(/command not found: no-such-beam-xyz/);
    expect(() => preflightCommand(['sh', '-erl_epmd_port', '1'], env)).toThrow(/skip EPMD lookups/);
    expect(() => preflightCommand(['sh', '-c', 'true'], env)).not.toThrow();
  });

  test('the manifest against the command: no distribution flags that contradict it', () => {
    const m = { ...validManifest(), service: { ...validManifest().service, distPort: 9100 } };
    expect(() => preflightManifest(m, ['erl', '-kernel', 'inet_dist_listen_min', '9100', 'inet_dist_listen_max', '9100'], env)).not.toThrow();
    expect(() => preflightManifest(m, ['erl', '-kernel', 'inet_dist_listen_min', '9200'], env)).toThrow(InputError);
  });

  test("the command's own node name must be the manifest's: a full name equal to it, never a long name's alive part alone", () => {
    const m = validManifest();
    expect(() => preflightManifest(m, ['erl', '-name', 'orders@orders-1.shop.test'], env)).not.toThrow();
    expect(() => preflightManifest(m, ['sh', '-c', 'exec erl -name "$MESHX_NODE_NAME"'], env)).not.toThrow();
    expect(() => preflightManifest(m, ['erl', '-name', 'orders@orders-2.shop.test'], env)).toThrow(
      /the command's -name names the node 'orders@orders-2\.shop\.test', but this node is 'orders@orders-1\.shop\.test'/,
    );
    // With the inetrc's domain the BEAM would be orders@<this host>.<domain>: registered, passing, unreachable.
    expect(() => preflightManifest(m, ['erl', '-name', 'orders'], env)).toThrow(/gives only 'orders': the BEAM would complete the host itself/);
  });

  test('the proxy binaries', () => {
    expect(() => preflightProxy({ consulBin: 'no-such-consul', proxyKind: ProxyKind.BUILTIN, env })).toThrow(
      /consul binary not found: no-such-consul \(set --consul-bin\)/,
    );
    expect(() => preflightProxy({ consulBin: 'sh', proxyKind: ProxyKind.ENVOY, envoyBin: 'no-such-envoy', env })).toThrow(
      /envoy binary not found: no-such-envoy/,
    );
    expect(() => preflightProxy({ consulBin: 'sh', proxyKind: ProxyKind.BUILTIN, env })).not.toThrow();
  });
});
