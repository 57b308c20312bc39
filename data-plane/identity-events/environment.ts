/**
 * Environment variables the PostAuthentication Lambda reads. Apart from the handler, so that the CDK
 * construct (data-plane/infra) sets them without loading the handler's runtime dependencies.
 */
export const LOGIN_EVENTS_ENV = {
  /** Name of the central event stream. */
  streamName: 'EVENT_STREAM_NAME',
} as const;
