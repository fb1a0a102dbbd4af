import { RepeatedListenerLines } from '../../../lib/runtime/proxy/repeated-lines';

// As Consul 1.8.7's built-in proxy writes them.
const start = (l: string) => `    2026-12-07T16:47:58.510Z [INFO]  proxy: Starting listener: listener=${l} bind_addr=${l.split('->')[0]}`;
const inUse = (l: string) => {
  const a = l.split('->')[0];
  const error = `error="listen tcp ${a}: bind: address already in use"`;
  return `    2026-12-07T16:48:08.018Z [ERROR] proxy: listener stopped with error: listener=${l} ${error}`;
};
const A = '127.0.0.2:62608->prepared_query:default/meshx~pb~pb-api~api@p0.peers.test';
const B = '127.0.0.3:62700->prepared_query:default/meshx~pb~pb-api~api@p1.peers.test';

describe('repeated listener lines of the built-in proxy', () => {
  test('a running listener: its first start kept, the start and "in use" of every later change dropped', () => {
    const f = new RepeatedListenerLines();
    expect(f.keep(start(A))).toBe(true);
    for (let change = 0; change < 3; change++) {
      expect(f.keep(start(A))).toBe(false);
      expect(f.keep(inUse(A))).toBe(false);
    }
    expect(f.droppedCount).toBe(6);
  });

  test('a listener whose port another process holds: every start and error kept, until one start succeeds', () => {
    const f = new RepeatedListenerLines();
    expect([f.keep(start(B)), f.keep(inUse(B))]).toEqual([true, true]);
    expect([f.keep(start(B)), f.keep(inUse(B))]).toEqual([true, true]);
    // The port is free again: this start succeeds, the next change repeats it.
    expect(f.keep(start(B))).toBe(true);
    expect([f.keep(start(B)), f.keep(inUse(B))]).toEqual([false, false]);
    expect(f.droppedCount).toBe(2);
  });

  test('other lines, and other listeners, are kept', () => {
    const f = new RepeatedListenerLines();
    f.keep(start(A));
    expect(f.keep(start(B))).toBe(true);
    expect(f.keep('    2026-12-07T16:47:58.591Z [INFO]  proxy: Proxy loaded config and ready to serve')).toBe(true);
    expect(f.keep(`    2026-12-07T16:48:08.018Z [ERROR] proxy: failed to dial: target=${A} error="connection refused"`)).toBe(true);
    expect(f.keep('    2026-12-07T16:47:58.591Z [INFO]  proxy: Starting listener: listener="public listener" bind_addr=0.0.0.0:62995')).toBe(true);
  });
});
