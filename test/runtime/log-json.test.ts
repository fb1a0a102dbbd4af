import { jsonLogLine, levelOf } from '../../lib/runtime/log-json';

describe('json log lines', () => {
  test('time (ISO, UTC), level, node, source, message, fields: in that order, one line', () => {
    const line = jsonLogLine(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), 'a@h', 'helper', 'say "hi"\tthere', { ms: 3, ok: true });
    const want = '{"time":"2026-01-02T03:04:05.006Z","level":"info","node":"a@h","source":"helper",'
      + '"message":"say \\"hi\\"\\tthere","fields":{"ms":3,"ok":true}}\n';
    expect(line).toBe(want);
    expect(JSON.parse(jsonLogLine(new Date(0), 'n', 'helper', 'm')).fields).toEqual({});
  });

  test('a proxy line takes its own level marker (Consul, Envoy), else info', () => {
    expect(levelOf('proxy', '2026-12-07T16:31:47.392Z [ERROR] proxy: listener stopped with error')).toBe('error');
    expect(levelOf('proxy', '2026-12-07T16:31:47.392Z [WARN]  proxy: slow')).toBe('warn');
    expect(levelOf('proxy', '    2026-12-07T16:31:41.508Z [INFO]  proxy: Starting listener')).toBe('info');
    expect(levelOf('proxy', '[2026-12-07 16:31:41.508][12][warning][config] gRPC config stream closed')).toBe('warn');
    expect(levelOf('proxy', '[2026-12-07 16:31:41.508][12][debug][main] x')).toBe('debug');
    expect(levelOf('proxy', '==> Consul Connect proxy starting...')).toBe('info');
  });

  test("a helper line's level is inferred from its wording", () => {
    expect(levelOf('helper', 'proxy ready (builtin, pid 7)')).toBe('info');
    expect(levelOf('helper', 'health passing: a@h registered on 127.0.0.1:9100')).toBe('info');
    expect(levelOf('helper', 'warning: nothing guards this host\'s default EPMD port 4369')).toBe('warn');
    expect(levelOf('helper', 'health critical: sidecar proxy down (restart 1)')).toBe('warn');
    expect(levelOf('helper', 'manifest version 40 refused: bad JSON; still on version 36')).toBe('warn');
    expect(levelOf('helper', 'proxy exited (SIGKILL); restarting in 500 ms (restart 1)')).toBe('warn');
    expect(levelOf('helper', 'health update failed: request to http://127.0.0.1:8500/v1/agent/check failed')).toBe('error');
    expect(levelOf('helper', "boot step 'proxy-ready' failed: not ready; undoing proxy-ready, epmd")).toBe('error');
    expect(levelOf('helper', 'stopped; exit 1')).toBe('error');
    expect(levelOf('helper', 'stopped; exit 0')).toBe('info');
  });
});

describe('json log line level', () => {
  test('a level given wins over the inferred one', () => {
    expect(JSON.parse(jsonLogLine(new Date(0), 'n', 'helper', 'port 9102 is already in use', { exit: 1 }, 'error'))).toMatchObject({
      level: 'error',
      fields: { exit: 1 },
    });
  });
});
