import { Command, Option } from 'commander';
import { companionEnvironment } from '../runtime/beam-env';
import { InputError } from '../runtime/errors';
import { shellExports, StateDir } from '../runtime/state-dir';

/** `meshx-node env`: what a companion BEAM (remote console, release rpc) needs to use this node's EPMD. */
export function addEnvCommand(program: Command, out: (s: string) => void): void {
  program
    .command('env')
    .summary('print what a second BEAM on the host (remote console, release rpc) needs to use this node\'s EPMD')
    .requiredOption('--state-dir <dir>', 'the state dir of the running `meshx-node run`')
    .addOption(new Option('--format <format>', 'output format').choices(['sh', 'json']).default('sh'))
    .action((flags: { stateDir: string; format: 'sh' | 'json' }) => {
      let vars: Record<string, string>;
      try {
        const s = new StateDir(flags.stateDir).readState();
        vars = companionEnvironment({ epmdPort: s.epmdPort, inetrcPath: s.inetrc, node: s.node });
      } catch (e) {
        throw new InputError((e as Error).message);
      }
      out(flags.format === 'json' ? JSON.stringify(vars, null, 2) + '\n' : shellExports(vars));
    });
}
