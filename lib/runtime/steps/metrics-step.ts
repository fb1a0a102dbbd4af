import { RuntimeFailure } from '../errors';
import { formatAddress, isLoopback } from '../metrics/address';
import { NodeMetrics } from '../metrics/recorder';
import { MetricsServer } from '../metrics/server';
import { RunOptions } from '../run-options';
import { BootStep } from './boot-step';

/**
 * With --metrics-addr: the Prometheus endpoint, first of the steps (a taken port fails the boot
 * before anything else is done; the boot's own steps can be scraped) and undone last.
 */
export class MetricsStep implements BootStep {
  public readonly name = 'metrics';
  private server?: MetricsServer;

  constructor(private readonly o: Pick<RunOptions, 'manifest' | 'proxyKind' | 'agent' | 'log'>, private readonly metrics: NodeMetrics) {}

  public async start(): Promise<void> {
    const { o, metrics } = this;
    const m = o.manifest;
    const version = (require('../../../package.json') as { version: string }).version;
    metrics.nodeInfo({ node: m.node, service: m.service.name, proxy: o.proxyKind, version });
    o.agent.onRequestError?.((kind) => metrics.agentError(kind));
    const server = new MetricsServer(metrics.address, metrics);
    this.server = server;
    try {
      await server.start();
    } catch (e) {
      throw new RuntimeFailure(`--metrics-addr: ${(e as Error).message}`);
    }
    const where = formatAddress(metrics.address);
    o.log(`metrics at http://${where}/metrics${isLoopback(metrics.address.host) ? '' : ' (not loopback: reachable from other hosts)'}`);
  }

  public async stop(): Promise<void> {
    await this.server?.stop();
  }
}
