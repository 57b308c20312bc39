/** The real-time analytics consumer: re-exported by data-plane/index.ts (docs/analytics.md). */
export { AnalyticsConsumer } from './consumer.js';
export type { AnalyticsConsumerProps, AnalyticsConsumerStats } from './consumer.js';
export { AnalyticsStore } from './store.js';
export type { AnalyticsStoreProps, DeadLetterFile } from './store.js';
export { ShardAggregator } from './aggregator.js';
export type { AggregationOptions, AggregatorStats, PendingRecord, ShardRecord, ShardState, DeadLetter, DeadLetterReason } from './aggregator.js';
export { ShardProcessor } from './shard-processor.js';
export type { DayFile, DayState, HourRow, WindowMetrics } from './window.js';
export { LeaseTable, ensureLeaseTable, SHARD_END } from './leases.js';
export type { Lease, LeaseTableProps } from './leases.js';
export { createHandler as createAnalyticsHandler, lambdaConfigFromEnvironment as analyticsLambdaConfigFromEnvironment } from './lambda.js';
export type { AnalyticsLambdaConfig, AnalyticsLambdaDeps, AnalyticsLambdaHandler } from './lambda.js';
export { syntheticTelemetry } from './synthetic.js';
export type { SyntheticTelemetryOptions } from './synthetic.js';
export { DURATION_RELATIVE_ACCURACY } from './sketch.js';
export { AnalyticsError, AnalyticsConfigError, AnalyticsStateError, LeaseLostError } from './errors.js';
