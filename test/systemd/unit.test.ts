// systemd/meshx-node@.service, as shipped: systemd's own checker passes it (no warning either),
// and its ExecStart, with an instance's environment, is a command line `meshx-node run` accepts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildProgram } from '../../lib/cli/main';

const ROOT = path.resolve(__dirname, '..', '..');
const UNIT = path.join(ROOT, 'systemd', 'meshx-node@.service');
const INSTALLED_BIN = '/usr/local/bin/meshx-node';

/** The unit's settings of one name, continuation lines joined. */
function settings(name: string): string[] {
  const text = fs.readFileSync(UNIT, 'utf8').replace(/\\\n/g, ' ');
  return text.split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1).trim());
}

/**
 * ExecStart as systemd turns it into argv (the forms the unit uses): `${VAR}` is one word, `$VAR`
 * is split on whitespace; no quotes (refused, rather than parsed half right).
 */
function execStartArgv(env: Record<string, string>): string[] {
  const [line] = settings('ExecStart');
  if (/["']/.test(line)) throw new Error('quotes in ExecStart: extend this parser');
  return line.split(/\s+/).flatMap((w) => {
    const whole = /^\$\{(\w+)\}$/.exec(w);
    if (whole) return [env[whole[1]] ?? ''];
    const split = /^\$(\w+)$/.exec(w);
    if (split) return (env[split[1]] ?? '').split(/\s+/).filter(Boolean);
    if (w.includes('$')) throw new Error(`a variable inside a word in ExecStart: ${w}`);
    return [w];
  });
}

/** Environment= defaults of the unit, then an instance's env file over them (as systemd orders them). */
function unitEnv(instance: Record<string, string>): Record<string, string> {
  const defaults = Object.fromEntries(settings('Environment').flatMap((s) => s.split(/\s+/)).map((kv) => kv.split('=', 2) as [string, string]));
  return { ...defaults, RUNTIME_DIRECTORY: '/run/meshx-node/api', ...instance };
}

describe('systemd unit template', () => {
  test('systemd-analyze verify passes it with nothing to say (the helper at its installed path stood in by the repo\'s bin)', () => {
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-unit-'));
    const text = fs.readFileSync(UNIT, 'utf8');
    expect(text).toContain(`ExecStart=${INSTALLED_BIN} run `);
    // verify checks that ExecStart's binary exists: the repo's bin/meshx-node stands in for the installed one.
    fs.writeFileSync(path.join(dir, 'meshx-node@.service'), text.replace(INSTALLED_BIN, path.join(ROOT, 'bin', 'meshx-node')));
    for (const unit of ['meshx-node@.service', 'meshx-node@api.service']) {
      const r = spawnSync('systemd-analyze', ['verify', `./${unit}`], { cwd: dir, encoding: 'utf8' });
      expect(r.error).toBeUndefined(); // systemd-analyze missing: scripts/setup.sh installs it (Debian's systemd)
      // verify exits 0 on a directive it ignores, with a warning: any output fails.
      expect([r.status, r.stdout + r.stderr]).toEqual([0, '']);
    }
  });

  test('verify does fail a broken unit (the check above can fail)', () => {
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-unit-'));
    fs.writeFileSync(path.join(dir, 'meshx-node@.service'), fs.readFileSync(UNIT, 'utf8').replace('KillMode=mixed', 'KillMode=gentle'));
    const r = spawnSync('systemd-analyze', ['verify', './meshx-node@.service'], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/Failed to parse kill mode/);
  });

  test('its ExecStart is a `meshx-node run` command line the CLI\'s own parser accepts, with the env file\'s values', async () => {
    const argv = execStartArgv(unitEnv({
      MESHX_KV: 'meshx/payments/nodes/payments-api', MESHX_COMMAND: '/opt/api/bin/api start', MESHX_DRAIN_TIMEOUT: '10',
    }));
    expect(argv[0]).toBe(INSTALLED_BIN);
    const args = argv.slice(1);
    const program = buildProgram(args, {}, () => undefined, { code: 0 });
    let parsed: { opts: Record<string, unknown>; command: string[] } | undefined;
    const stop = new Error('parsed; not run');
    program.hook('preAction', (_p, action) => {
      parsed = { opts: action.opts(), command: action.args };
      throw stop;
    });
    await expect(program.parseAsync(args, { from: 'user' })).rejects.toBe(stop);
    expect(parsed!.opts).toMatchObject({
      kv: 'meshx/payments/nodes/payments-api', stateDir: '/run/meshx-node/api', drainTimeout: 10, stopTimeout: 15,
    });
    expect(parsed!.command).toEqual(['/opt/api/bin/api', 'start']);
    // The defaults (no MESHX_DRAIN_TIMEOUT in the env file) parse too: 0, no drain.
    const plain = execStartArgv(unitEnv({ MESHX_KV: 'k', MESHX_COMMAND: 'erl' })).slice(1);
    expect(plain.slice(plain.indexOf('--drain-timeout'), plain.indexOf('--drain-timeout') + 2)).toEqual(['--drain-timeout', '0']);
  });

  test('TimeoutStopSec leaves room for the default drain and stop timeouts', () => {
    const env = unitEnv({});
    const stopSec = Number(settings('TimeoutStopSec')[0]);
    expect(stopSec).toBeGreaterThan(Number(env.MESHX_DRAIN_TIMEOUT) + Number(env.MESHX_STOP_TIMEOUT) + 5);
    expect(settings('KillMode')).toEqual(['mixed']);
  });
});
