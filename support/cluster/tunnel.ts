// The harness's one way into the cluster from the root namespace: a plain listener on loopback
// that opens, per connection, a mutual-TLS connection to the server agent's HTTPS API through a
// unix socket (the file system is shared across namespaces; the network is not). Terraform runs
// through it because the stand-in Consul provider takes no CA or client certificate; everything
// inside the cluster speaks HTTPS with verify_incoming.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface TunnelOptions {
  readonly socketPath: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly serverName: string;
}

export class TlsTunnel {
  public static async open(o: TunnelOptions): Promise<TlsTunnel> {
    const secure = {
      ca: fs.readFileSync(o.ca, 'utf8'),
      cert: fs.readFileSync(o.cert, 'utf8'),
      key: fs.readFileSync(o.key, 'utf8'),
      servername: o.serverName,
    };
    const sockets = new Set<net.Socket>();
    const server = net.createServer((plain) => {
      const upstream = tls.connect({ path: o.socketPath, ...secure });
      for (const s of [plain, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => (s === plain ? upstream : plain).destroy());
      }
      plain.pipe(upstream).pipe(plain);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
    return new TlsTunnel(server, sockets);
  }

  private constructor(private readonly server: net.Server, private readonly sockets: Set<net.Socket>) {}

  /** `http://127.0.0.1:<port>` */
  public get httpAddr(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  public async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
