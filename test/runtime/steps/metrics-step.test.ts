import * as http from 'node:http';
import * as net from 'node:net';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { PrometheusRecorder } from '../../../lib/runtime/metrics/prometheus';
import { probeFreePort } from '../../../lib/runtime/ports';
import { MetricsStep } from '../../../lib/runtime/steps/metrics-step';
import { runOptions } from '../../fixtures/run-options';

const scrape = (port: number) =>
  new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });

describe('metrics step', () => {
  test("serves the node's metrics, with its info and the agent's errors; logs where; stop frees the port", async () => {
    const port = await probeFreePort('127.0.0.1');
    let onError: ((kind: string) => void) | undefined;
    const o = runOptions({ agent: { onRequestError: (f: (kind: string) => void) => (onError = f) } });
    const metrics = new PrometheusRecorder({ host: '127.0.0.1', port });
    const step = new MetricsStep(o, metrics);
    await step.start();
    try {
      onError!('timeout');
      const text = await scrape(port);
      expect(text).toContain(`meshx_node_info{node="${o.manifest.node}",service="${o.manifest.service.name}",proxy="builtin",version="`);
      expect(text).toContain('meshx_node_agent_request_errors_total{kind="timeout"} 1');
      expect(o.logs).toContain(`metrics at http://127.0.0.1:${port}/metrics`);
    } finally {
      await step.stop();
    }
    expect(await probeFreePort('127.0.0.1', port)).toBe(port);
  });

  test('a host that is not loopback is logged as reachable from other hosts', async () => {
    const port = await probeFreePort('0.0.0.0');
    const o = runOptions();
    const step = new MetricsStep(o, new PrometheusRecorder({ host: '0.0.0.0', port }));
    await step.start();
    await step.stop();
    expect(o.logs).toContain(`metrics at http://0.0.0.0:${port}/metrics (not loopback: reachable from other hosts)`);
  });

  test('a taken port is a run-time failure naming the flag', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    const step = new MetricsStep(runOptions(), new PrometheusRecorder({ host: '127.0.0.1', port }));
    try {
      const started = step.start();
      await expect(started).rejects.toThrow(RuntimeFailure);
      await expect(started).rejects.toThrow(`--metrics-addr: 127.0.0.1:${port} is already in use`);
    } finally {
      await step.stop();
      taken.close();
    }
  });
});
