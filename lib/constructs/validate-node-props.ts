import { Construct } from 'constructs';
import { isNodeName, isServiceName, splitNodeName, toServiceLabel } from '../manifest/names';
import { ALIVE_PATTERN, consulLimitProblems, isDuration, LIMITS, META_KEY_PATTERN, RESERVED_META, SIDECAR_SUFFIX } from '../manifest/rules';
import { fail } from './errors';
import type { BeamNodeProps } from './node';
import { checkProxyConfig } from './proxy-config';
import type { BeamReplicasProps } from './replicas';
import { checkLiteral, checkPort } from './validation';

/** A node's props once checked, defaults applied. */
export interface ValidNode {
  readonly nodeName: string;
  readonly alive: string;
  readonly host: string;
  readonly serviceName: string;
  readonly distPort: number;
  readonly sidecarPort: number;
  readonly epmdPort: number;
  readonly tags: string[];
  readonly meta: Record<string, string>;
  readonly ttl: string;
  readonly deregisterCriticalAfter: string;
  /** The sidecar's Proxy.Config, a plain copy; undefined when none. */
  readonly proxyConfig?: Record<string, unknown>;
}

/** A replica group's props once checked, defaults applied. */
export interface ValidGroup {
  readonly alive: string;
  readonly serviceName: string;
  readonly distPort: number;
  readonly epmdPort: number;
  readonly tags: string[];
  readonly meta: Record<string, string>;
  readonly ttl: string;
  readonly deregisterCriticalAfter: string;
  readonly connectReplicas: boolean;
  readonly proxyConfig?: Record<string, unknown>;
}

/** What nodes and groups share: the Consul service and its ports. */
type ServiceProps = Omit<BeamNodeProps, 'nodeName' | 'sidecarPort' | 'proxy'>;

const META_KEY_RE = new RegExp(META_KEY_PATTERN);
const ALIVE_RE = new RegExp(ALIVE_PATTERN);

/**
 * Checks a node's props on their own (what depends on the other nodes, such as a taken name, is
 * the mesh's to check); each error names the node's path and the prop.
 */
export function validateNodeProps(scope: Construct, meshName: string, id: string, props: BeamNodeProps): ValidNode {
  checkLiteral(scope, 'nodeName', props.nodeName);
  if (!isNodeName(props.nodeName)) {
    fail(scope, `nodeName '${props.nodeName}' must be 'alive@host': alive of A-Z, a-z, 0-9, '_', '-'; host a DNS name (e.g. 'app@api-1.internal')`);
  }
  const names = { nodeName: props.nodeName, ...splitNodeName(props.nodeName) };
  return { ...names, ...validateServiceProps(scope, meshName, id, props, props.sidecarPort) };
}

/**
 * Checks a replica group's props as a node's are checked (no node name and no sidecar port:
 * both are chosen per replica at boot); each error names the group's path and the prop.
 */
export function validateReplicasProps(scope: Construct, meshName: string, id: string, props: BeamReplicasProps): ValidGroup {
  checkLiteral(scope, 'alive', props.alive);
  if (typeof props.alive !== 'string' || !ALIVE_RE.test(props.alive)) {
    fail(scope, `alive '${props.alive}' must be the part of a node name before '@': 1 to 255 characters of A-Z, a-z, 0-9, '_', '-'`);
  }
  const { sidecarPort: _none, ...service } = validateServiceProps(scope, meshName, id, props, undefined);
  return { alive: props.alive, ...service, connectReplicas: props.connectReplicas ?? true };
}

function validateServiceProps(scope: Construct, meshName: string, id: string, props: ServiceProps, sidecarPort: number | undefined) {
  const serviceName = serviceNameOf(scope, meshName, id, props.serviceName);
  const ports = {
    distPort: checkPort(scope, 'distPort', props.distPort),
    sidecarPort: checkPort(scope, 'sidecarPort', sidecarPort),
    epmdPort: checkPort(scope, 'epmdPort', props.epmdPort),
  };
  checkOwnPorts(scope, fixedPorts(ports));
  const labels = { tags: checkTags(scope, props.tags ?? []), meta: checkMeta(scope, props.meta ?? {}) };
  const durations = {
    ttl: checkDuration(scope, 'ttl', props.ttl ?? '5m'),
    deregisterCriticalAfter: checkDuration(scope, 'deregisterCriticalAfter', props.deregisterCriticalAfter ?? '1m'),
  };
  checkConsulLimits(scope, { ...durations, ...ports });
  return { serviceName, ...ports, ...labels, ...durations, proxyConfig: checkProxyConfig(scope, props.proxyConfig) };
}

/** The fixed (non-zero) ports, as [field, port]. */
export function fixedPorts(p: { readonly distPort: number; readonly sidecarPort?: number; readonly epmdPort: number }): Array<[string, number]> {
  const all: Array<[string, number]> = [['distPort', p.distPort], ['sidecarPort', p.sidecarPort ?? 0], ['epmdPort', p.epmdPort]];
  return all.filter(([, port]) => port !== 0);
}

function checkOwnPorts(scope: Construct, own: Array<[string, number]>): void {
  for (let i = 0; i < own.length; i++) {
    for (let j = i + 1; j < own.length; j++) {
      if (own[i][1] === own[j][1]) fail(scope, `${own[i][0]} and ${own[j][0]} are both ${own[i][1]}`);
    }
  }
}

/** The given service name, checked, or one derived from the mesh name and the construct id. */
function serviceNameOf(scope: Construct, meshName: string, id: string, given: string | undefined): string {
  let name: string;
  if (given !== undefined) {
    checkLiteral(scope, 'serviceName', given);
    if (!isServiceName(given)) {
      fail(scope, `serviceName '${given}' must be a lowercase DNS label: a-z, 0-9 and '-', at most 63 characters, not starting or ending with '-'`);
    }
    name = given;
  } else {
    const label = toServiceLabel(id);
    name = `${meshName}-${label}`;
    if (!isServiceName(name) || name.length > 63 || label === '') {
      fail(scope, `cannot derive a service name from mesh '${meshName}' and id '${id}' `
        + '(a lowercase DNS label of at most 63 characters); set serviceName');
    }
  }
  if (name.endsWith(SIDECAR_SUFFIX)) fail(scope, `serviceName '${name}' must not end in '${SIDECAR_SUFFIX}' (Consul's sidecar suffix)`);
  return name;
}

function checkTags(scope: Construct, tags: string[]): string[] {
  return tags.map((t, i) => {
    checkLiteral(scope, `tags[${i}]`, t);
    if (t.length === 0 || t.length > LIMITS.tagLength) fail(scope, `tags[${i}] must be 1 to ${LIMITS.tagLength} characters`);
    return t;
  });
}

function checkMeta(scope: Construct, meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (!META_KEY_RE.test(k)) fail(scope, `meta key '${k}' must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '-'`);
    if (RESERVED_META.includes(k)) fail(scope, `meta key '${k}' is set by meshx-node and cannot be overridden`);
    checkLiteral(scope, `meta.${k}`, v);
    if (v.length > LIMITS.metaValueLength) fail(scope, `meta.${k} must be at most ${LIMITS.metaValueLength} characters`);
    out[k] = v;
  }
  return out;
}

/** What Consul would refuse, named by the construct's prop. */
function checkConsulLimits(scope: Construct, o: Parameters<typeof consulLimitProblems>[0]): void {
  const prop: Record<string, string> = {
    'service.ttl': 'ttl',
    'service.deregisterCriticalAfter': 'deregisterCriticalAfter',
    'sidecar.port': 'sidecarPort',
  };
  for (const [field, problem] of consulLimitProblems(o)) fail(scope, `${prop[field] ?? field} ${problem}`);
}

function checkDuration(scope: Construct, field: string, value: string): string {
  checkLiteral(scope, field, value);
  if (!isDuration(value)) fail(scope, `${field} '${value}' must be a duration such as '15s', '1m' or '1m30s'`);
  return value;
}
