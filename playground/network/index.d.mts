export {
  NETWORK_MODES,
  createNetworkProxy,
  createRoundRobinProxy,
  type NetworkMode,
  type NetworkModeOptions,
  type NetworkModeStats,
  type NetworkProxy,
  type NetworkProxyInit,
  type NetworkProxyStats,
  type RoundRobinProxyInit,
} from './proxy.mjs'
export { createEventSplitter, type EventSplitter } from './event-splitter.mjs'
export { createSeededRandom, randomIntBetween } from './prng.mjs'
