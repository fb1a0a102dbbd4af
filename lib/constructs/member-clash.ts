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
