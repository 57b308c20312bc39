/** Events of the identity component (Cognito): re-exported by data-plane/index.ts (docs/analytics.md). */
export { LOGIN_EVENTS_ENV } from './environment.js';
export { LOGIN_EVENT_SOURCE, createLoginEventsHandler, loginEventsConfigFromEnvironment } from './login-events.js';
export type { LoginEventsConfig, LoginEventsDeps, LoginEventsHandler } from './login-events.js';
export { IdentityEventsError, IdentityEventsConfigError } from './errors.js';
