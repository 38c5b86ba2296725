// The IIFE build for a <script> tag: `window.ResilientSSE`. No adapters, no server.
export { ResilientEventSource } from './client'
export { StreamError, isStreamError } from './errors'
export { GapEvent, StreamErrorEvent, TransportChangeEvent } from './events'
export { createEventStreamParser } from './parser/index'
