export { authenticate } from './auth/authenticate.js';
export { ROLES, type Principal, type Role } from './auth/principal.js';
export { createTokenVerifier, principalFromClaims, type TokenVerifier, type TokenVerifierOptions } from './auth/token-verifier.js';
export { Database, TENANT_SCOPE_ROLE, TENANT_SETTING, type DatabaseOptions, type Dialect } from './db/database.js';
export * from './errors.js';
export { createApp, type TenantManagerDeps } from './tenant-manager/app.js';
export { TenantService, type TenantServiceOptions } from './tenant-manager/tenant-service.js';
export { OutboxRelay, OutboxRelayError, type OutboxRelayProps, type RelayRound } from './outbox-relay/outbox-relay.js';
