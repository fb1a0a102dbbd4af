import { PrometheusRecorder } from '../../../lib/runtime/metrics/prometheus';
import { agentErrorKind } from '../../../lib/runtime/metrics/recorder';

/** The value of one series in a text exposition, or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus recorder', () => {
  const address = { host: '127.0.0.1', port: 9102 };

  test('every metric is there from the start, labelled series at 0; names follow the conventions', async () => {
    const text = await new PrometheusRecorder(address).metrics();
    for (const s of [
      'meshx_node_manifest_versions_total{outcome="applied"}',
      'meshx_node_manifest_versions_total{outcome="refused"}',
      'meshx_node_manifest_versions_total{outcome="failed"}',
      'meshx_node_health_changes_total{status="critical"}',
      'meshx_node_epmd_lookups_total{result="unknown"}',
      'meshx_node_login_renewals_total{outcome="failed"}',
      'meshx_node_proxy_restarts_total',
      'meshx_node_epmd_registrations_refused_total',
    ]) expect(value(text, s)).toBe(0);
    const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(names).toHaveLength(11);
    for (const [name, type] of names) {
      expect(name).toMatch(/^meshx_node_[a-z_]+$/);
      expect(name.endsWith('_total')).toBe(type === 'counter');
    }
  });

  test('each event moves its series', async () => {
    const r = new PrometheusRecorder(address);
    r.nodeInfo({ node: 'a@h', service: 'shop-a', proxy: 'builtin', version: '0.1.0' });
    r.bootStep('proxy-ready', 1500);
    r.manifestVersion('applied');
    r.manifestVersion('refused');
    r.manifestVersion('applied');
    r.upstreams(3);
    r.upstreams(2);
    r.proxyRestart();
    r.healthState('passing');
    r.healthState('critical');
    r.epmdLookup('peer');
    r.epmdLookup('peer');
    r.epmdRefused();
    r.agentError('timeout');
    r.loginRenewal('ok');
    const text = await r.metrics();
    expect(value(text, 'meshx_node_info{node="a@h",service="shop-a",proxy="builtin",version="0.1.0"}')).toBe(1);
    expect(value(text, 'meshx_node_boot_step_seconds{step="proxy-ready"}')).toBe(1.5);
    expect(value(text, 'meshx_node_manifest_versions_total{outcome="applied"}')).toBe(2);
    expect(value(text, 'meshx_node_manifest_versions_total{outcome="refused"}')).toBe(1);
    expect(value(text, 'meshx_node_upstreams')).toBe(2);
    expect(value(text, 'meshx_node_proxy_restarts_total')).toBe(1);
    expect(value(text, 'meshx_node_health_changes_total{status="passing"}')).toBe(1);
    expect(value(text, 'meshx_node_health_changes_total{status="critical"}')).toBe(1);
    expect(value(text, 'meshx_node_health_passing')).toBe(0);
    expect(value(text, 'meshx_node_epmd_lookups_total{result="peer"}')).toBe(2);
    expect(value(text, 'meshx_node_epmd_registrations_refused_total')).toBe(1);
    expect(value(text, 'meshx_node_agent_request_errors_total{kind="timeout"}')).toBe(1);
    expect(value(text, 'meshx_node_login_renewals_total{outcome="ok"}')).toBe(1);
    expect(r.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  test('two recorders do not share series (no global registry)', async () => {
    const a = new PrometheusRecorder(address);
    const b = new PrometheusRecorder(address);
    a.proxyRestart();
    expect(value(await a.metrics(), 'meshx_node_proxy_restarts_total')).toBe(1);
    expect(value(await b.metrics(), 'meshx_node_proxy_restarts_total')).toBe(0);
  });

  test('agent error kinds: an answer by its status, no answer by its cause', () => {
    expect(agentErrorKind({ status: 403 })).toBe('forbidden');
    expect(agentErrorKind({ status: 400 })).toBe('client_error');
    expect(agentErrorKind({ status: 500 })).toBe('server_error');
    expect(agentErrorKind({ code: 'ETIMEDOUT' })).toBe('timeout');
    expect(agentErrorKind({ code: 'ECONNREFUSED' })).toBe('connection');
    expect(agentErrorKind({ code: 'CERT_HAS_EXPIRED', tls: true })).toBe('tls');
  });
});
