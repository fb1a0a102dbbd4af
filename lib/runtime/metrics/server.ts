import * as http from 'node:http';
import { formatAddress, ListenAddress } from './address';
import type { MetricsSource } from './recorder';

/** The Prometheus scrape endpoint: GET /metrics, nothing else. */
export class MetricsServer {
  private server?: http.Server;

  constructor(private readonly address: ListenAddress, private readonly source: MetricsSource) {}

  /** Listens; rejects with a message naming the address when it cannot (in use, not this host's). */
  public async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.answer(req, res));
    // A scraper keeps its connection: no idle timeout shorter than a scrape interval.
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why = { EADDRINUSE: 'is already in use', EADDRNOTAVAIL: 'is not an address of this host' }[e.code ?? ''];
        reject(new Error(`${formatAddress(this.address)} ${why ?? `cannot be listened on: ${e.message}`}`));
      });
      server.listen(this.address.port, this.address.host, () => resolve());
    });
  }

  public async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    try {
      const body = await this.source.metrics();
      res.writeHead(200, { 'Content-Type': this.source.contentType }).end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(e as Error).message}\n`);
    }
  }
}
