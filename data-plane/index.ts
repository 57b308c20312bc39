export { EVENT_TYPES, createEvent, dataSchemaOf } from './events.js';
export type { EventDataByType, EventType, KitEvent, NewEvent } from './events.js';
