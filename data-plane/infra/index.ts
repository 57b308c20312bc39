// The CDK side of data-plane: the analytics pipeline. A public entry of its own, so that runtime code
// (the consumer, its Lambda bundle, the producer) imports data-plane/index.ts without loading aws-cdk-lib.
export { AnalyticsPipeline, AnalyticsPipelineStack, ANALYTICS_HANDLER_ENV, DEFAULT_ANALYTICS_HANDLER_ENTRY } from './analytics-pipeline.js';
export type { AnalyticsPipelineProps, AnalyticsPipelineStackProps } from './analytics-pipeline.js';
export { DataPlaneInfraError, AnalyticsPipelineConfigError } from './errors.js';
