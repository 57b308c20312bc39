export { startLocalCognito, type LocalCognito, type LocalCognitoOptions, type LocalCognitoTriggers } from './cognito.js';
export { startLocalKinesis, type LocalKinesis, type LocalKinesisOptions } from './kinesis.js';
export { startLocalS3, type LocalS3, type LocalS3Options } from './s3.js';
export { startLocalDynamoDb, type LocalDynamoDb, type LocalDynamoDbOptions } from './dynamodb.js';
export { LOCAL_CLOUD_FOLDERS, startLocalCloud, type LocalCloud, type LocalCloudOptions, type LocalCloudPorts } from './cloud.js';
export {
  localCognitoClientConfig,
  localDynamoDbClientConfig,
  localKinesisClientConfig,
  localS3ClientConfig,
  type LocalEndpoint,
} from './client-config.js';
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
