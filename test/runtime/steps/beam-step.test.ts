import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { processAlive } from '../../../lib/runtime/instance';
import { groupMembers, parseStat } from '../../../lib/runtime/process-group';
import { BeamStep } from '../../../lib/runtime/steps/beam-step';
import { picked, registered, runOptions, serving, somePorts } from '../../fixtures/run-options';

describe('beam step', () => {
  const ready = (command: string[], distPort = 9100) => {
    const o = runOptions({ command });
    o.stateDir.create();
    o.stateDir.lock();
    const ports = somePorts({ distPort, upstreams: [] });
    const hosts: Array<Map<string, string>> = [];
    const dns = { port: 5353, setHosts: (m: Map<string, string>) => void hosts.push(m) };
    const epmd = serving(Object.assign(new EventEmitter(), { port: 4370 }));
    const step = new BeamStep(o, { ports: picked(ports), register: registered(o, ports), epmd, dns: serving(dns) });
    return { o, step, hosts };
  };

  test('writes the host map and state, spawns the command with the BEAM environment (no token); stop gives its exit code', async () => {
    const { o, step, hosts } = ready(['sh', '-c', 'echo "$ERL_EPMD_PORT $CONSUL_HTTP_TOKEN" > "$MESHX_STATE_DIR/seen"; sleep 30']);
    (o as any).env = { ...o.env, CONSUL_HTTP_TOKEN: 'secret' };
    await step.start();
    try {
      expect(fs.readFileSync(o.stateDir.inetrcPath, 'utf8')).toContain('{nameserver, {127,0,0,1}, 5353}.');
      expect(o.stateDir.readState()).toMatchObject({ epmdPort: 4370, distPort: 9100, dnsPort: 5353, version: { source: 'manifest' } });
      expect([...hosts[0]]).toEqual([['orders-1.shop.test', '127.0.0.1']]);
      expect(step.liveFiles.version.source).toBe('manifest');
      const seen = `${o.stateDir.dir}/seen`;
      const until = Date.now() + 5000;
      while (!fs.existsSync(seen) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(fs.readFileSync(seen, 'utf8')).toBe('4370 \n');
    } finally {
      await step.stop();
      fs.rmSync(`${o.stateDir.dir}/seen`, { force: true });
      o.stateDir.remove();
    }
    expect(step.exitCode).toBe(128 + 15);
  });

  test('a distribution port taken since it was picked fails the step naming the field, before the BEAM starts', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as net.AddressInfo).port;
    const { o, step } = ready(['sh', '-c', 'exit 0'], port);
    try {
      await expect(step.start()).rejects.toThrow(
        new RuntimeFailure(`service.distPort: port ${port} on 127.0.0.1 was taken by another process during boot; run again`),
      );
      expect(() => step.process).toThrow(/has not started/);
    } finally {
      s.close();
      o.stateDir.remove();
    }
  });
  /** The pid the command wrote to the state dir's `seen`. */
  const seenPid = async (dir: string) => {
    const seen = `${dir}/seen`;
    const until = Date.now() + 5000;
    while (!(fs.existsSync(seen) && fs.readFileSync(seen, 'utf8').endsWith('\n')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return Number(fs.readFileSync(seen, 'utf8').trim());
  };
  const pgrpOf = (pid: number) => parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))!.pgrp;
  /** Starts the step as if the helper's stdin were (not) a terminal, whatever jest's is. */
  const startWithTTY = async (step: BeamStep, tty: boolean) => {
    const had = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: tty, configurable: true });
    try {
      await step.start();
    } finally {
      if (had) Object.defineProperty(process.stdin, 'isTTY', had);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
    }
  };

  test('the command leads its own process group; stop reaches a grandchild its shell forked', async () => {
    const { o, step } = ready(['sh', '-c', 'sleep 30 & echo $! > "$MESHX_STATE_DIR/seen"; wait']);
    await startWithTTY(step, false);
    const shell = step.process.pid!;
    let grandchild = 0;
    try {
      grandchild = await seenPid(o.stateDir.dir);
      expect(pgrpOf(shell)).toBe(shell);
      expect(pgrpOf(grandchild)).toBe(shell);
    } finally {
      await step.stop();
      o.stateDir.remove();
    }
    expect(step.exitCode).toBe(128 + 15);
    expect(groupMembers(shell)).toEqual([]);
    expect(processAlive(grandchild)).toBe(false);
  });

  test('on a terminal the command stays in the helper\'s group (it keeps Ctrl-C); stop reaches the direct child', async () => {
    const { o, step } = ready(['sh', '-c', 'sleep 30']);
    await startWithTTY(step, true);
    try {
      expect(pgrpOf(step.process.pid!)).toBe(pgrpOf(process.pid));
    } finally {
      await step.stop();
      o.stateDir.remove();
    }
    expect(step.exitCode).toBe(128 + 15);
  });
});
