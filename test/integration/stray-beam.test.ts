// Issue 25: a stock BEAM tool run on a mesh host without the helper's environment. Each case runs
// in a network namespace of its own (`unshare -n`, loopback only), so port 4369 is the test's:
// with the documented host setting (a loopback-only epmd, standing in for the epmd.socket
// drop-in, and ERL_EPMD_ADDRESS / inet_dist_use_interface for login sessions) the stray leaves
// nothing listening off loopback; without it, it does, and the helper's boot check says so.
import { spawnSync } from 'node:child_process';
import { epmdGuardWarnings } from '../../lib/runtime/epmd-guard';
import { isLoopbackAddress, listenersOn, procAddress } from '../../lib/runtime/proc-net';

jest.setTimeout(60_000);

/**
 * Runs a stray `erl -sname stray` in a fresh network namespace, optionally with a loopback epmd
 * and the documented environment; returns the socket tables while it runs. Every process started
 * is killed at the end (trap), and the namespace goes with them.
 */
function strayIn(guarded: boolean): string[] {
  const env = guarded ? "ERL_EPMD_ADDRESS=127.0.0.1 ERL_AFLAGS='-kernel inet_dist_use_interface {127,0,0,1}'" : '';
  const script = [
    'set -e',
    'ip link set lo up',
    // At exit, every process of this namespace but the shell: the stray's own `epmd -daemon` too.
    'me=$(readlink /proc/$$/ns/net)',
    'ours() { [ "$1" != $$ ] && [ "$(readlink /proc/$1/ns/net 2>/dev/null)" = "$me" ]; }',
    'trap \'for p in /proc/[0-9]*; do ours ${p#/proc/} && kill -9 ${p#/proc/} 2>/dev/null; done; true\' EXIT',
    guarded ? 'epmd -address 127.0.0.1 -port 4369 & sleep 0.3' : ':',
    `${env} erl -sname stray -noshell -eval 'timer:sleep(3000), halt().' &`,
    // Until the stray is registered (its distribution listening), bounded.
    'for i in $(seq 1 50); do epmd -names 2>/dev/null | grep -q "name stray" && break; sleep 0.1; done',
    'cat /proc/net/tcp; echo ===; cat /proc/net/tcp6',
  ].join('\n');
  const r = spawnSync('timeout', ['30', 'unshare', '-n', 'sh', '-c', script], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('===\n');
}

/** Every listening address:port in the tables. */
function listening(tables: string[]): string[] {
  return tables.flatMap((t) => t.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === '0A')
    .map((f) => `${procAddress(f[1].split(':')[0])}:${parseInt(f[1].split(':')[1], 16)}`));
}

describe('a stray BEAM tool on a mesh host', () => {
  test('with the host setting: it works (registered), and nothing listens off loopback; the helper\'s check is silent', () => {
    const tables = strayIn(true);
    const all = listening(tables);
    expect(all).toContain('127.0.0.1:4369');
    // The stray's distribution listener is there, on loopback.
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.filter((a) => !isLoopbackAddress(a.slice(0, a.lastIndexOf(':'))))).toEqual([]);
    expect(epmdGuardWarnings(tables)).toEqual([]);
  });

  test('without it: its epmd and its distribution listen on every address, and the helper\'s check names the port', () => {
    const tables = strayIn(false);
    const open = listening(tables).filter((a) => !isLoopbackAddress(a.slice(0, a.lastIndexOf(':'))));
    expect(open).toContain('0.0.0.0:4369');
    expect(open.length).toBeGreaterThanOrEqual(2);
    expect([...listenersOn(tables[0], 4369).values()]).toEqual(['0.0.0.0']);
    expect(epmdGuardWarnings(tables)).toEqual([expect.stringMatching(/^this host's default EPMD port 4369 listens on 0\.0\.0\.0/)]);
  });
});
