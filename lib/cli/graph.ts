import { Command, Option } from 'commander';
import { diffGraphs, graphFrom, MeshGraph } from '../review/graph';
import { diffFromPlanFile } from '../review/plan';
import { GraphFormat, renderDiff, renderGraph } from '../review/render';
import { InputError } from '../runtime/errors';

interface GraphFlags {
  readonly from?: string;
  readonly plan?: string;
  readonly format: GraphFormat;
  readonly diff?: string;
}

/** The reading of one input, with its option named when it fails. */
function read<T>(option: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new InputError(`${option}: ${(e as Error).message}`);
  }
}

/** `meshx-node graph`: who may talk to whom, from synthesized stacks or a saved Terraform plan. */
export function addGraphCommand(program: Command, out: (s: string) => void): void {
  program
    .command('graph')
    .summary('show who may talk to whom, from synthesized stacks or a Terraform plan')
    .description('Read nodes, upstreams and intentions (both modes) from synthesized stacks and print the graph with its findings; '
      + 'with --diff the edges added and removed since an older synth; '
      + 'with --plan the edges a saved plan (terraform show -json) adds, removes and keeps against the deployed state.')
    .option('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json')
    .option('--plan <file>', 'JSON of a saved plan: terraform plan -out=PLAN && terraform show -json PLAN > FILE')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot', 'json']).default('text'))
    .option('--diff <old>', 'with --from: an older cdktf output to compare with')
    .action((flags: GraphFlags) => {
      if (flags.plan) {
        if (flags.from || flags.diff) throw new InputError('--plan reads the deployed and planned graphs from the plan: leave out --from and --diff');
        return out(renderDiff(read('--plan', () => diffFromPlanFile(flags.plan!)), flags.format));
      }
      if (!flags.from) throw new InputError('--from or --plan is required');
      const now: MeshGraph = read('--from', () => graphFrom(flags.from!));
      if (!flags.diff) return out(renderGraph(now, flags.format));
      out(renderDiff(diffGraphs(read('--diff', () => graphFrom(flags.diff!)), now), flags.format));
    });
}
