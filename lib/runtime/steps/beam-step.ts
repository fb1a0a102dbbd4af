import { beamEnvironment, inetrc } from '../beam-env';
import { signalNumber, spawnTied, stopChild } from '../child';
import { BootStep } from '../context';
import { RuntimeFailure } from '../errors';
import { isFree } from '../ports';
import { versionOf, writeLiveFiles } from '../topology/outputs';
import { releaseHeld } from './ports-step';

/** Host map (DNS responder, hosts file and the inetrc naming both), peers and state for the BEAM and scripts, then the BEAM itself. */
export const beamStep: BootStep = {
  name: 'beam',
  async start(ctx) {
    const { o } = ctx;
    const m = o.manifest;
    const ports = ctx.ports!;
    // Held since the pick; released for the BEAM. A fixed port was only proven free at boot:
    // another process on the host may have taken it since. Say so here rather than let the BEAM
    // fail with a bare 'eaddrinuse'.
    await releaseHeld(ctx, 'dist');
    if (!(await isFree('127.0.0.1', ports.distPort))) {
      throw new RuntimeFailure(`service.distPort: port ${ports.distPort} on 127.0.0.1 was taken by another process during boot; run again`);
    }
    ctx.version = versionOf(m, o.manifestSource ?? 'manifest');
    writeLiveFiles(ctx);
    o.stateDir.writeInetrc(inetrc(o.stateDir.hostsPath, ctx.dns!.port));
    const env = beamEnvironment(withoutTokens(o.env), { node: m.node, epmdPort: ports.epmdPort, distPort: ports.distPort, inetrcPath: o.stateDir.inetrcPath, stateDir: o.stateDir.dir });
    const beam = spawnTied(o.command, { env, stdio: 'inherit' });
    ctx.beam = beam;
    ctx.beamSpawnedAt = Date.now();
    beam.once('exit', (code, signal) => {
      ctx.beamExitCode = code ?? 128 + signalNumber(signal!);
    });
    await new Promise<void>((resolve, reject) => {
      beam.once('spawn', () => resolve());
      beam.once('error', (e) => {
        ctx.beamExitCode = 127;
        reject(new RuntimeFailure(`cannot start ${o.command[0]}: ${e.message}`));
      });
    });
    o.log(`started ${o.command[0]} (pid ${beam.pid}) as ${m.node}`);
  },
  async stop(ctx) {
    const beam = ctx.beam;
    if (!beam || beam.pid === undefined) return;
    if (ctx.killNow) beam.kill('SIGKILL');
    ctx.beamExitCode = await stopChild(beam, ctx.killNow ? 0 : ctx.o.stopTimeoutMs);
  },
};

/** The BEAM needs no Consul token: least privilege. */
function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.CONSUL_HTTP_TOKEN;
  delete out.CONSUL_HTTP_TOKEN_FILE;
  return out;
}
