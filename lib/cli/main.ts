import { Command, CommanderError } from 'commander';

type Out = (s: string) => void;
/**
 * Each command's module, loaded only when that command runs (or for help and errors): the runtime
 * helper (`run`) then never loads the review and rendering code.
 */
const COMMANDS: Record<string, (program: Command, argv: string[], env: NodeJS.ProcessEnv, out: Out, result: { code: number }) => void> = {
  run: (p, argv, env, _out, result) => require('./run').addRunCommand(p, argv, env, result),
  manifest: (p, _argv, _env, out) => require('./manifest').addManifestCommand(p, out),
  env: (p, _argv, _env, out) => require('./env').addEnvCommand(p, out),
  graph: (p, _argv, _env, out) => require('./graph').addGraphCommand(p, out),
  mesh: (p, _argv, env, out) => require('./mesh').addMeshCommand(p, env, out),
};

/** Builds the CLI. `out` receives command output (stdout). */
export function buildProgram(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, result: { code: number }): Command {
  const program = new Command('meshx-node')
    .description('Put stock BEAM nodes on a Consul Connect service mesh')
    .version(require('../../package.json').version)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) });
  const first = argv.find((a) => !a.startsWith('-'));
  const only = first !== undefined && first in COMMANDS ? first : undefined;
  for (const [name, add] of Object.entries(COMMANDS)) if (!only || name === only) add(program, argv, env, out, result);
  return program;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
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
