import { Command } from 'commander';
import { NODE_MANIFEST_SCHEMA } from '../manifest/schema';
import { InputError } from '../runtime/errors';
import { manifestsFromSynth, selectManifest } from './manifest-source';

/** `meshx-node manifest`: the manifests in synthesized output, or the schema. */
export function addManifestCommand(program: Command, out: (s: string) => void): void {
  program
    .command('manifest')
    .summary('print the node and group manifests found in synthesized output')
    .option('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json')
    .option('--node <name>', 'only this node or group (Erlang node name, a group\'s alive@*, or service name)')
    .option('--schema', 'print the JSON Schema of manifest v1 instead')
    .action((flags: { from?: string; node?: string; schema?: boolean }) => {
      if (flags.schema) return out(JSON.stringify(NODE_MANIFEST_SCHEMA, null, 2) + '\n');
      if (!flags.from) throw new InputError('--from is required (or --schema)');
      const found = manifestsFromSynth(flags.from);
      const value = flags.node ? selectManifest(found, flags.node, flags.from) : found.map((f) => f.manifest);
      out(JSON.stringify(value, null, 2) + '\n');
    });
}
