import { Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { fail } from './errors';

/** Checks an optional port prop: a literal integer 0 (pick at boot) or 1-65535. */
export function checkPort(scope: IConstruct, field: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (Token.isUnresolved(value)) fail(scope, `${field} must be a literal number: the node manifest cannot hold Terraform references`);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    fail(scope, `${field} must be an integer from 1 to 65535 (or 0 to pick one at boot), got ${value}`);
  }
  return value;
}

/**
 * Checks a literal string prop: meshx-node writes these into plain JSON (manifests, auth method
 * config), so no token and no Terraform template syntax. A value that is not a string is left to
 * the caller's type check.
 */
export function checkLiteral<T>(scope: IConstruct, field: string, value: T): T {
  if (typeof value !== 'string') return value;
  if (Token.isUnresolved(value)) fail(scope, `${field} must be a literal string, not a Terraform reference`);
  if (!value.includes('${') && !value.includes('%{')) return value;
  fail(scope, `${field} must not contain Terraform template syntax ('\${' or '%{'), got '${value}'`);
}
