export { EVENT_TYPES, DATASCHEMA_PREFIX, MAX_EVENT_BYTES, PARSE_FAILURE_REASONS, JOB_STEPS, BILLING_METRICS, createEvent, parseEvent, dataSchemaOf, EventCatalogError, EventValidationError } from './events.js';
export type { EventDataByType, EventInputByType, EventType, EventEnvelope, KitEvent, NewEvent, ParseResult, ParseSuccess, ParseFailure, ParseFailureReason, EventIssue, JobStep, BillingMetric, BillingUnit, DeepReadonly } from './events.js';
export {
  KinesisProducer,
  KinesisProducerClosedError,
  KinesisProducerError,
  KinesisProducerValidationError,
  KinesisRecordTooLargeError,
  KinesisUndeliveredError,
} from './kinesis-producer.js';
export type { KinesisFailureHandler, KinesisProducerProps, KinesisProducerStats, KinesisRecord, KinesisRecordFailure } from './kinesis-producer.js';
