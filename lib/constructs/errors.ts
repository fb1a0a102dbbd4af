import { IConstruct } from 'constructs';

/** Throws a synth-time validation error that names the construct path. */
export function fail(scope: IConstruct, message: string): never {
  throw new Error(`[${scope.node.path}] ${message}`);
}
