// Issue 25: any stock BEAM tool run on a mesh host without `meshx-node env` (a `rabbitmqctl`, an
// `erl -sname`) starts `epmd -daemon`, which listens on every address of port 4369, and then
// listens for distribution on every address too: the exposure the mesh removes. Debian's
// erlang-base even enables an epmd.socket on every address. The host setting that prevents it
// (docs/works-with.md#stray-beam-tools-on-a-mesh-host) is checked here, at each boot.
import { isLoopbackAddress, listenersOn, socketTables } from './proc-net';

/** The default EPMD port, which stray BEAM tools use. */
export const DEFAULT_EPMD_PORT = 4369;

/** Warnings about this host's port 4369, from the kernel's socket tables; empty when it is guarded on loopback. */
export function epmdGuardWarnings(tables: string[] = socketTables()): string[] {
  const addresses = tables.flatMap((t) => [...listenersOn(t, DEFAULT_EPMD_PORT).values()]);
  const fix = 'see docs/works-with.md#stray-beam-tools-on-a-mesh-host (epmd.socket on 127.0.0.1 and ::1)';
  const open = [...new Set(addresses.filter((a) => !isLoopbackAddress(a)))];
  if (open.length) {
    return [`this host's default EPMD port ${DEFAULT_EPMD_PORT} listens on ${open.join(', ')}: a BEAM tool run here without \`meshx-node env\` `
      + `registers there and listens for distribution off loopback; ${fix}`];
  }
  if (!addresses.some(isLoopbackAddress)) {
    return [`nothing guards this host's default EPMD port ${DEFAULT_EPMD_PORT} on loopback: a BEAM tool run here without \`meshx-node env\` `
      + `starts epmd on every address; ${fix}`];
  }
  return [];
}
