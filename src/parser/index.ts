export { createEventStreamParser } from './parser'
export type { EventStreamMessage, EventStreamParser, EventStreamParserOptions } from './types'
