// @ts-check
export { NETWORK_MODES, createNetworkProxy, createRoundRobinProxy } from './proxy.mjs'
export { createEventSplitter } from './event-splitter.mjs'
export { createSeededRandom, randomIntBetween } from './prng.mjs'
