import { Command, Option } from 'commander';
import { diffGraphs, graphFrom, MeshGraph } from '../review/graph';
import { GraphFormat, renderDiff, renderGraph } from '../review/render';
import { InputError } from '../runtime/errors';

/** `meshx-node graph`: who may talk to whom, from synthesized stacks. */
export function addGraphCommand(program: Command, out: (s: string) => void): void {
  program
    .command('graph')
    .summary('show who may talk to whom, from synthesized stacks')
    .description('Read nodes, upstreams and intentions (both modes) from synthesized stacks and print the graph with its findings, or with --diff the edges added and removed since an older synth.')
    .requiredOption('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot', 'json']).default('text'))
    .option('--diff <old>', 'an older cdktf output to compare with (text or json)')
    .action((flags: { from: string; format: GraphFormat; diff?: string }) => {
      const read = (from: string, option: string): MeshGraph => {
        try {
          return graphFrom(from);
        } catch (e) {
          throw new InputError(`${option}: ${(e as Error).message}`);
        }
      };
      const now = read(flags.from, '--from');
      if (!flags.diff) return out(renderGraph(now, flags.format));
      if (flags.format !== 'text' && flags.format !== 'json') throw new InputError('--diff prints text or json');
      out(renderDiff(diffGraphs(read(flags.diff, '--diff'), now), flags.format));
    });
}
