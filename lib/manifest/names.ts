import { NODE_NAME_PATTERN, SERVICE_NAME_PATTERN } from './rules';

const SERVICE_RE = new RegExp(SERVICE_NAME_PATTERN);
const NODE_RE = new RegExp(NODE_NAME_PATTERN);

export function isServiceName(s: string): boolean {
  return SERVICE_RE.test(s);
}

export function isNodeName(s: string): boolean {
  return NODE_RE.test(s);
}

/** Splits `alive@host` (caller has validated it). */
export function splitNodeName(node: string): { alive: string; host: string } {
  const at = node.indexOf('@');
  return { alive: node.slice(0, at), host: node.slice(at + 1) };
}

/** Turns arbitrary text into a lowercase DNS label: runs of other characters become `-`. */
export function toServiceLabel(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}
