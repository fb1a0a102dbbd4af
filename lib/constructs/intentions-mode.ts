/**
 * How intentions are written to Consul.
 */
export enum IntentionsMode {
  /** One `service-intentions` config entry per destination (Consul 1.9 and later). */
  CONFIG_ENTRY = 'CONFIG_ENTRY',
  /** One legacy `consul_intention` per (source, destination) pair (Consul 1.8 and earlier). */
  LEGACY = 'LEGACY',
}
