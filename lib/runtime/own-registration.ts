import { EventEmitter } from 'node:events';
import { Registration } from './epmd/server';

/**
 * Whether the node's BEAM ever registered with the helper's EPMD under its own name, and why
 * not. An application may set its own distribution port (RabbitMQ's RABBITMQ_DIST_PORT): the
 * helper refuses that registration, the application gives up on distribution, and its start
 * script may still exit 0. The helper then exits non-zero, with this reason.
 */
export class OwnRegistration {
  private seen = false;
  private lastRefusal?: string;

  constructor(epmd: EventEmitter & { readonly registered: Registration[] }, alive: string) {
    // Registered already (before this was attached): the boot's steps ran first.
    this.seen = epmd.registered.some((r) => r.name === alive);
    epmd.on('registered', (r: Registration) => {
      if (r.name === alive) this.seen = true;
    });
    epmd.on('refused', (r: { name: string; port: number; reason: string }) => {
      if (r.name === alive) this.lastRefusal = `its registration (port ${r.port}) was refused: ${r.reason}`;
    });
  }

  public get registered(): boolean {
    return this.seen;
  }

  /** Why the node is not on the mesh, for the log and the exit: `node` never registered. */
  public why(node: string, within: string): string {
    return `${node} never registered with the helper's EPMD ${within}` + (this.lastRefusal ? `; ${this.lastRefusal}` : '');
  }
}
