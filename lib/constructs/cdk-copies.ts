import * as path from 'node:path';
import { TerraformElement, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { fail } from './errors';

/**
 * Fails at once, naming the cause and the fix, when the app's stack comes from a copy of the CDK
 * that cannot synthesize the elements meshx-node and `@cdktf/provider-consul` make: a CDK Terrain
 * stack calls, in every synth, a method that cdktf 0.21's elements lack, and would otherwise stop
 * with a bare TypeError (on the app's own ConsulProvider too). A second copy as such is fine:
 * nothing meshx-node emits depends on which copy runs the synth.
 */
export function checkCdkCopies(scope: IConstruct): void {
  const stack = stackOf(scope);
  if (stack === undefined || stack instanceof TerraformStack) return;
  const theirs = stack as unknown as Record<string, unknown>;
  const ours = TerraformElement.prototype as unknown as Record<string, unknown>;
  if (typeof theirs._runPreparingResolve !== 'function' || typeof ours._resetResolveDiscoveredProviderFeatureUsage === 'function') return;
  const terrain = packageOf(stack);
  const version = terrain?.startsWith('cdktn ') ? terrain.slice('cdktn '.length) : '0.24.0';
  fail(scope, `the stack is a ${terrain ?? 'CDK Terrain (cdktn)'} stack, but meshx-node and @cdktf/provider-consul load 'cdktf' as ${ownPackage()}, `
    + 'whose resources a CDK Terrain stack cannot synthesize (not even the stack\'s own ConsulProvider). '
    + `Make every 'cdktf' import load CDK Terrain: add "overrides": {"cdktf": "npm:cdktn@${version}"} to the app's package.json `
    + 'and run npm install again (docs/languages.md, "From CDK Terrain")');
}

function stackOf(scope: IConstruct): TerraformStack | undefined {
  try {
    return TerraformStack.of(scope);
  } catch {
    return undefined; // not in a stack: nothing to compare
  }
}

function ownPackage(): string {
  return describePackage(require.resolve('cdktf/package.json')) ?? 'cdktf';
}

/** "name version" of the loaded package whose TerraformStack made `stack`, when it can be found. */
function packageOf(stack: object): string | undefined {
  for (const mod of Object.values(require.cache)) {
    const ctor = (mod?.exports as { TerraformStack?: unknown } | undefined)?.TerraformStack;
    if (typeof ctor === 'function' && stack instanceof ctor) return describePackage(path.join(path.dirname(mod!.filename), '..', 'package.json'));
  }
  return undefined;
}

function describePackage(file: string): string | undefined {
  try {
    const pkg = require(file) as { name?: string; version?: string };
    return pkg.name && pkg.version ? `${pkg.name} ${pkg.version}` : undefined;
  } catch {
    return undefined;
  }
}
