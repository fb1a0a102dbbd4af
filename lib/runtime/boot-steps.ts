import { RunOptions } from './run-options';
import { BeamStep } from './steps/beam-step';
import { BootStep, SidecarReadiness } from './steps/boot-step';
import { DnsStep } from './steps/dns-step';
import { EpmdStep } from './steps/epmd-step';
import { HealthStep } from './steps/health-step';
import { LoginStep } from './steps/login-step';
import { MetricsStep } from './steps/metrics-step';
import { PortsStep } from './steps/ports-step';
import { ProxyReadyStep, ProxyStep } from './steps/proxy-step';
import { RegistrationStep } from './steps/registration-step';
import { StateDirStep } from './steps/state-dir-step';
import { WatchStep } from './steps/watch-step';

/** The steps of one run, and what the runtime reads of them. */
export interface NodeBoot {
  /** In order; undone in reverse. */
  readonly steps: BootStep[];
  /** The BEAM: the runtime waits for its exit and exits with its code. */
  readonly beam: Pick<BeamStep, 'process' | 'spawnedAt' | 'exitCode'> & Partial<Pick<BeamStep, 'judgeUnregistered' | 'registeredAt'>>;
  /** Its `registered` event ends the boot's timing (unless the BEAM registered during the boot's steps). */
  readonly epmd: Pick<EpmdStep, 'server'>;
}

/**
 * The steps of one run, each built for it and handed the steps whose results it reads. The login
 * step only with --login-method (nor its name in logs), the watch only with --kv or peer groups,
 * the metrics endpoint only with --metrics-addr.
 */
export function bootSteps(o: RunOptions): NodeBoot {
  const ports = new PortsStep(o);
  const register = new RegistrationStep(o, { ports });
  const sidecar = new SidecarReadiness();
  const epmd = new EpmdStep(o, { register, sidecar });
  const dns = new DnsStep(o, { register });
  const login = o.login ? new LoginStep(o, o.login) : undefined;
  const proxy = new ProxyStep(o, { token: login ?? { tokenFile: o.tokenFile }, ports, register, epmd, sidecar });
  const beam = new BeamStep(o, { ports, register, epmd, dns });
  const health = new HealthStep(o, { ports, register, epmd, proxy, beam });
  const follows = o.kvKey !== undefined || (o.manifest.peerGroups ?? []).length > 0;
  const watch = follows ? new WatchStep(o, o.kvKey, { ports, register, epmd, proxy, beam }) : undefined;
  const metrics = o.metrics && new MetricsStep(o, o.metrics);
  // The proxy's supervision before the BEAM (a stop undoes the BEAM first, which drains through
  // it); the BEAM spawned first, its boot the longest; proxy-ready spawns the proxy and waits for
  // it beside that boot (the EPMD holds peer lookups until the wait ends); health only after both,
  // so nothing passes before the proxy holds its listeners.
  const booting = [proxy, beam, new ProxyReadyStep(proxy, beam), health];
  const steps: Array<BootStep | undefined> = [metrics, new StateDirStep(o), login, ports, register, epmd, dns, ...booting, watch];
  return { steps: steps.filter((s): s is BootStep => s !== undefined), beam, epmd };
}
