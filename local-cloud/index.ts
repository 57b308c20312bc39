export { startLocalCognito, type LocalCognito, type LocalCognitoOptions } from './cognito.js';
export { ensureKitUserPool, KIT_ROLES, type EnsureKitUserPoolOptions, type KitRole, type KitUserPool } from './user-pool.js';
export { issueLocalToken, type LocalToken, type LocalTokenRequest } from './tokens.js';
export type { CognitoEndpoint } from './private/cognito-api.js';
export {
  LocalCloudConflictError,
  LocalCloudError,
  LocalCloudServiceError,
  LocalCloudStartError,
  LocalCloudValidationError,
} from './errors.js';
