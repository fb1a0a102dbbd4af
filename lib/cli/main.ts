import { Command, CommanderError } from 'commander';
import { addEnvCommand } from './env';
import { addGraphCommand } from './graph';
import { addManifestCommand } from './manifest';
import { addRunCommand } from './run';

/** Builds the CLI. `out` receives command output (stdout). */
export function buildProgram(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, result: { code: number }): Command {
  const program = new Command('meshx-node')
    .description('Put stock BEAM nodes on a Consul Connect service mesh')
    .version(require('../../package.json').version)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) });
  addRunCommand(program, argv, env, result);
  addManifestCommand(program, out);
  addEnvCommand(program, out);
  addGraphCommand(program, out);
  return program;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(argv, env, out, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    const code = (e as { exitCode?: number }).exitCode ?? 1;
    process.stderr.write(`meshx-node: ${(e as Error).message}\n`);
    return code;
  }
}
