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
export { JOBS_TABLE, OUTBOX_SHARDS, createJobsTable, jobsTableDefinition } from './jobs/table.js';
export { JOB_STATUSES, JOB_TRANSITIONS, TERMINAL_JOB_STATUSES, TENANT_NODE_LABEL, isTerminal, placementFor } from './jobs/model.js';
export type { DataObject, Dataset, Job, JobPlacement, JobStatus, JobUsage, Page } from './jobs/model.js';
export { JobRepository, MAX_DATASET_OBJECTS, checkSteps } from './jobs/repository.js';
export type { FinishOutcome, JobRepositoryProps, ListJobsOptions, SubmitJobInput } from './jobs/repository.js';
export { JobOutboxRelay } from './jobs/job-outbox-relay.js';
export type { JobOutboxPass, JobOutboxRelayProps, JobOutboxRelayStats } from './jobs/job-outbox-relay.js';
export { IdempotencyKeyReusedError, JobConflictError, JobLeaseLostError, JobStoreError, JobStoreNotFoundError, JobStoreValidationError } from './jobs/errors.js';
export { JobExecutor } from './executor/executor.js';
export type { JobExecutorProps, JobExecutorStats } from './executor/executor.js';
export { EXECUTOR_EVENT_SOURCE, runExecutor } from './executor/main.js';
export type { ExecutorConfig, RunningExecutor } from './executor/main.js';
export { STEP_PROFILES, STEP_STARTUP_MS, planJob } from './executor/simulation.js';
export type { JobSpec, StepPlan, StepProfile } from './executor/simulation.js';
export { JobExecutorError, JobExecutorValidationError } from './executor/errors.js';
export { AnalyticsConsumer, AnalyticsStore, ShardAggregator, ShardProcessor, LeaseTable, ensureLeaseTable, SHARD_END, createAnalyticsHandler, analyticsLambdaConfigFromEnvironment, syntheticTelemetry, DURATION_RELATIVE_ACCURACY, AnalyticsError, AnalyticsConfigError, AnalyticsStateError, LeaseLostError } from './analytics/index.js';
export type { AnalyticsConsumerProps, AnalyticsConsumerStats, AnalyticsStoreProps, AggregationOptions, AggregatorStats, ShardRecord, ShardState, DeadLetter, DeadLetterReason, DeadLetterFile, DayFile, DayState, HourRow, WindowMetrics, Lease, LeaseTableProps, AnalyticsLambdaConfig, AnalyticsLambdaDeps, AnalyticsLambdaHandler, SyntheticTelemetryOptions } from './analytics/index.js';
export type { PendingRecord } from './analytics/index.js';
export { LOGIN_EVENT_SOURCE, LOGIN_EVENTS_ENV, createLoginEventsHandler, loginEventsConfigFromEnvironment, IdentityEventsError, IdentityEventsConfigError } from './identity-events/index.js';
export type { LoginEventsConfig, LoginEventsDeps, LoginEventsHandler } from './identity-events/index.js';
