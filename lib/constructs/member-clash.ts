import { fail } from './errors';
import type { IMeshMember } from './mesh-base';
import type { BeamNode } from './node';

/**
 * Fails, naming `member`, when it cannot join a mesh that already has `other`. Replicas may run
 * on any host, so a group clashes where a node on some host would: on its alive name (a replica
 * on that host would have the node's name) and on fixed ports; two nodes clash on ports only
 * when they share a host.
 */
export function checkMemberClash(member: IMeshMember, other: IMeshMember): void {
  if (!member.isGroup && !other.isGroup) {
    checkNodes(member as BeamNode, other as BeamNode);
    return;
  }
  if (other.serviceName === member.serviceName) fail(member, `service name '${member.serviceName}' is already used by ${other.node.path}`);
  if (other.alive === member.alive) {
    fail(member, `alive name '${member.alive}' is already used by ${other.node.path} (${other.displayName}): `
      + 'a replica runs on any host, where its node name would be taken');
  }
  const where = 'a replica may run on any host';
  checkPorts(member, other, (field, port, otherField) => `${field} ${port} clashes with ${otherField} of ${other.node.path} (${where})`);
}

function checkNodes(node: BeamNode, other: BeamNode): void {
  if (other.nodeName === node.nodeName) fail(node, `node name '${node.nodeName}' is already used by ${other.node.path}`);
  if (other.serviceName === node.serviceName) fail(node, `service name '${node.serviceName}' is already used by ${other.node.path}`);
  if (other.host !== node.host) return;
  const where = `on the same host '${node.host}'`;
  checkPorts(node, other, (field, port, otherField) => `${field} ${port} clashes with ${otherField} of ${other.node.path} ${where}`);
}

function checkPorts(member: IMeshMember, other: IMeshMember, message: (field: string, port: number, otherField: string) => string): void {
  for (const [field, port] of member._fixedPorts()) {
    for (const [otherField, otherPort] of other._fixedPorts()) {
      if (port === otherPort) fail(member, message(field, port, otherField));
    }
  }
}

/**
 * The members a new member could clash with, found without comparing it to every member (a
 * linear scan per member made adding N nodes quadratic): a node can clash only with a node of
 * its node or service name, with a node with fixed ports on its host (when it has fixed ports
 * too), and with any group; a group with anyone. `check` runs {@link checkMemberClash} on those,
 * in the order they were added, so the first clash reported is the one a full scan would report.
 */
export class MemberClashIndex {
  private readonly all: IMeshMember[] = [];
  private readonly order = new Map<IMeshMember, number>();
  private readonly groups: IMeshMember[] = [];
  private readonly byNodeName = new Map<string, IMeshMember[]>();
  private readonly byService = new Map<string, IMeshMember[]>();
  private readonly fixedByHost = new Map<string, IMeshMember[]>();

  /** Fails, naming `member`, when it clashes with a member already added. */
  public check(member: IMeshMember): void {
    for (const other of this.candidates(member)) checkMemberClash(member, other);
  }

  /** Adds a member that passed {@link check}. */
  public add(member: IMeshMember): void {
    this.order.set(member, this.all.length);
    this.all.push(member);
    push(this.byService, member.serviceName, member);
    if (member.isGroup) {
      this.groups.push(member);
      return;
    }
    const node = member as BeamNode;
    push(this.byNodeName, node.nodeName, node);
    if (node._fixedPorts().length > 0) push(this.fixedByHost, node.host, node);
  }

  private candidates(member: IMeshMember): IMeshMember[] {
    if (member.isGroup) return this.all;
    const node = member as BeamNode;
    const found = new Set<IMeshMember>([
      ...this.groups,
      ...(this.byNodeName.get(node.nodeName) ?? []),
      ...(this.byService.get(node.serviceName) ?? []),
      ...(node._fixedPorts().length > 0 ? this.fixedByHost.get(node.host) ?? [] : []),
    ]);
    return [...found].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }
}

function push(map: Map<string, IMeshMember[]>, key: string, member: IMeshMember): void {
  const list = map.get(key);
  if (list) list.push(member);
  else map.set(key, [member]);
}
