/**
 * The event catalog: every component of every tier describes what happened with one of these
 * types, wrapped in a CloudEvents 1.0 envelope whose `subject` is the tenant id (the Kinesis
 * partition key). The zod schemas in `events/data/` are the single source of truth: types are
 * inferred from them, docs/events is generated from them, `createEvent` and `parseEvent` validate
 * with them. A type's data only gains optional fields within a version; a breaking change is a
 * new `dataschema` version that parses alongside the old ones and is upcast to the latest.
 */
export { EVENT_TYPES, DATASCHEMA_PREFIX, dataSchemaOf } from './events/catalog.js';
export type { EventType, EventDataByType, EventInputByType, DeepReadonly } from './events/catalog.js';
export { MAX_EVENT_BYTES, createEvent } from './events/envelope.js';
export type { EventEnvelope, KitEvent, NewEvent } from './events/envelope.js';
export { parseEvent } from './events/parse.js';
export type { ParseResult, ParseSuccess, ParseFailure } from './events/parse.js';
export { PARSE_FAILURE_REASONS, EventCatalogError, EventValidationError } from './events/errors.js';
export type { ParseFailureReason, EventIssue } from './events/errors.js';
export { JOB_STEPS } from './events/data/job.js';
export type { JobStep } from './events/data/job.js';
export { BILLING_METRICS } from './events/data/billing.js';
export type { BillingMetric, BillingUnit } from './events/data/billing.js';
