import type { ListenAddress } from './address';
import type { NodeMetrics } from './recorder';

/**
 * The Prometheus recorder, its module (and prom-client) loaded only now: a helper run without
 * --metrics-addr never evaluates them and keeps its RSS.
 */
export function prometheusMetrics(address: ListenAddress): NodeMetrics {
  const { PrometheusRecorder } = require('./prometheus') as typeof import('./prometheus');
  return new PrometheusRecorder(address);
}
