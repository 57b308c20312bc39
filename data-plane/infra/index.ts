// The CDK side of data-plane: the analytics pipeline and the Cognito trigger of the login events. A public
// entry of its own, so that runtime code (the consumer, its Lambda bundle, the producer) imports
// data-plane/index.ts without loading aws-cdk-lib.
export { AnalyticsPipeline, AnalyticsPipelineStack, ANALYTICS_HANDLER_ENV, DEFAULT_ANALYTICS_HANDLER_ENTRY } from './analytics-pipeline.js';
export type { AnalyticsPipelineProps, AnalyticsPipelineStackProps } from './analytics-pipeline.js';
export { DataPlaneInfraError, AnalyticsPipelineConfigError, LoginEventsConfigError } from './errors.js';
export { LoginEvents, LOGIN_EVENTS_HANDLER_ENV, DEFAULT_LOGIN_EVENTS_HANDLER_ENTRY } from './login-events.js';
export type { LoginEventsProps } from './login-events.js';
