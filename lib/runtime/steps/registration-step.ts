import { BootContext, BootStep, liveManifest } from '../context';
import { RuntimeFailure } from '../errors';
import { helperAlive } from '../instance';
import { isFree, pickFreePort } from '../ports';
import { HELPER_PID_META, portsFromSidecar, serviceDefinition, sidecarId } from '../registration';
import { InstanceConflict } from '../state-dir';
import { epmdPeers } from './epmd-step';

/**
 * Registers the node and its sidecar (idempotent: the same ID replaces a stale registration),
 * then reads back the ports the agent put in force, so later steps see final values.
 */
export const registrationStep: BootStep = {
  name: 'register',
  async start(ctx) {
    const { o } = ctx;
    const m = o.manifest;
    await refuseSecondInstance(ctx);
    registered.add(ctx);
    await o.agent.registerService(serviceDefinition(m, ctx.ports!, process.pid));
    const reg = await o.agent.service(sidecarId(m));
    if (!reg) throw new RuntimeFailure(`the agent did not register the sidecar ${sidecarId(m)}`);
    ctx.ports = portsFromSidecar(ctx.ports!, reg);
    // The agent assigns sidecar ports knowing only its own registrations; something else on the
    // host (another agent's proxy, any daemon) may hold that port. Prove it free, else move.
    if (!m.sidecar.port && !(await isFree('0.0.0.0', ctx.ports.sidecarPort))) await moveSidecar(ctx);
    o.log(`registered ${m.service.id} (dist 127.0.0.1:${ctx.ports.distPort}, sidecar :${ctx.ports.sidecarPort}, ${ctx.ports.upstreams.length} upstreams)`);
  },
  async stop(ctx) {
    if (registered.delete(ctx)) await ctx.o.agent.deregisterService(ctx.o.manifest.service.id);
  },
};

const registered = new WeakSet<BootContext>();

/** Registers the sidecar again on a port proven free now (something else took the agent's choice). */
export async function moveSidecar(ctx: BootContext): Promise<void> {
  const { o } = ctx;
  const moved = await pickFreePort('0.0.0.0', new Set());
  o.log(`sidecar port ${ctx.ports!.sidecarPort} assigned by the agent is in use on this host; registering with ${moved}`);
  ctx.ports = { ...ctx.ports!, sidecarPort: moved };
  await o.agent.registerService(serviceDefinition(liveManifest(ctx), ctx.ports, process.pid, ctx.distCheck));
  const again = await o.agent.service(sidecarId(o.manifest));
  if (!again || again.Port !== moved) throw new RuntimeFailure(`the agent did not move the sidecar ${sidecarId(o.manifest)} to port ${moved}`);
}

/**
 * Registers an upstream again on a port proven free now: helpers of one host booting at the same
 * moment can probe the same free port for their upstream listeners, and one proxy binds it first.
 * The EPMD routes follow. Returns false when the port is fixed in the manifest (not ours to move).
 */
export async function moveUpstream(ctx: BootContext, address: string, port: number): Promise<boolean> {
  const { o } = ctx;
  const i = ctx.ports!.upstreams.findIndex((u) => u.address === address && u.port === port);
  if (i < 0 || o.manifest.upstreams[i]?.port) return false;
  const moved = await pickFreePort(address, new Set([...ctx.ports!.upstreams.map((u) => `${u.address}:${u.port}`), `127.0.0.1:${ctx.ports!.distPort}`]));
  o.log(`upstream listener ${address}:${port} (${ctx.ports!.upstreams[i].service}) is in use on this host; registering with ${moved}`);
  const upstreams = ctx.ports!.upstreams.map((u, j) => (j === i ? { ...u, port: moved } : u));
  ctx.ports = { ...ctx.ports!, upstreams };
  await o.agent.registerService(serviceDefinition(o.manifest, ctx.ports, process.pid, ctx.distCheck));
  ctx.epmd?.setPeers(epmdPeers(upstreams));
  return true;
}

/**
 * The state dir's lock covers one dir; the agent's registration covers the node on this host: a
 * registration made by a live helper (another --state-dir) is left alone. One left by a helper
 * that is gone is replaced as before.
 */
async function refuseSecondInstance(ctx: BootContext): Promise<void> {
  const { o } = ctx;
  const existing = await o.agent.service<{ Meta?: Record<string, string> }>(o.manifest.service.id);
  const pid = Number(existing?.Meta?.[HELPER_PID_META]);
  if (pid && pid !== process.pid && helperAlive(pid)) {
    throw new InstanceConflict(`already running: ${o.manifest.service.id} is registered with the agent by helper pid ${pid}; stop it first (this run changed nothing)`);
  }
}
