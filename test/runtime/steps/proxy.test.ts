import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeFreePort } from '../../../lib/runtime/ports';
import { proxyStep } from '../../../lib/runtime/steps/proxy';
import { isAlive, waitGone } from '../../../support/mesh-node';
import { bootContext } from '../../fixtures/context';

describe('proxy step', () => {
  test('ready once the proxy itself listens on the upstream and public ports; preStop ends supervision; stop ends the proxy', async () => {
    const ctx = bootContext();
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    ctx.ports = { epmdPort: 4370, distPort: 9100, sidecarPort: pub, upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }] };
    // A stand-in for `consul connect proxy`: the same pid binds the listeners, after a moment.
    const fake = path.join(path.dirname(ctx.o.stateDir.dir), 'consul');
    fs.writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" -e "const n = require('net'); setTimeout(() => { n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0'); }, 200)"\n`, { mode: 0o755 });
    (ctx.o as any).consulBin = fake;
    (ctx.o as any).readyTimeoutMs = 10000;
    await proxyStep.start(ctx);
    const pid = ctx.proxy!.pid!;
    try {
      expect(ctx.logs).toContain(`proxy ready (builtin, pid ${pid})`);
      proxyStep.preStop!(ctx);
      process.kill(pid, 'SIGKILL');
      expect(await waitGone([pid], 5000)).toBe(true);
      expect(ctx.proxy!.restartCount).toBe(0);
    } finally {
      await proxyStep.stop(ctx);
    }
    expect(isAlive(pid)).toBe(false);
    expect(ctx.logs.filter((l) => /restarting/.test(l))).toEqual([]);
  });
});
