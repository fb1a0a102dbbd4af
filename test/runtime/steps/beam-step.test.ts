import * as fs from 'node:fs';
import * as net from 'node:net';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { beamStep } from '../../../lib/runtime/steps/beam-step';
import { bootContext } from '../../fixtures/context';

describe('beam step', () => {
  const ready = (command: string[]) => {
    const ctx = bootContext({ command });
    ctx.o.stateDir.create();
    ctx.o.stateDir.lock();
    ctx.ports = { epmdPort: 4370, distPort: 9100, sidecarPort: 21000, upstreams: [] };
    const hosts: Array<Map<string, string>> = [];
    ctx.dns = { port: 5353, setHosts: (m: Map<string, string>) => hosts.push(m) } as any;
    return Object.assign(ctx, { hosts });
  };

  test('writes the host map and state, spawns the command with the BEAM environment (no token); stop gives its exit code', async () => {
    const ctx = ready(['sh', '-c', 'echo "$ERL_EPMD_PORT $CONSUL_HTTP_TOKEN" > "$MESHX_STATE_DIR/seen"; sleep 30']);
    (ctx.o as any).env = { ...ctx.o.env, CONSUL_HTTP_TOKEN: 'secret' };
    await beamStep.start(ctx);
    try {
      expect(fs.readFileSync(ctx.o.stateDir.inetrcPath, 'utf8')).toContain('{nameserver, {127,0,0,1}, 5353}.');
      expect(ctx.o.stateDir.readState()).toMatchObject({ distPort: 9100, dnsPort: 5353 });
      expect([...ctx.hosts[0]]).toEqual([['orders-1.shop.test', '127.0.0.1']]);
      const seen = `${ctx.o.stateDir.dir}/seen`;
      const until = Date.now() + 5000;
      while (!fs.existsSync(seen) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(fs.readFileSync(seen, 'utf8')).toBe('4370 \n');
    } finally {
      await beamStep.stop(ctx);
      fs.rmSync(`${ctx.o.stateDir.dir}/seen`, { force: true });
      ctx.o.stateDir.remove();
    }
    expect(ctx.beamExitCode).toBe(128 + 15);
  });

  test('a distribution port taken since it was picked fails the step naming the field, before the BEAM starts', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const ctx = ready(['sh', '-c', 'exit 0']);
    try {
      const port = (s.address() as net.AddressInfo).port;
      ctx.ports = { ...ctx.ports!, distPort: port };
      await expect(beamStep.start(ctx)).rejects.toThrow(new RuntimeFailure(`service.distPort: port ${port} on 127.0.0.1 was taken by another process during boot; run again`));
      expect(ctx.beam).toBeUndefined();
    } finally {
      s.close();
      ctx.o.stateDir.remove();
    }
  });
});
