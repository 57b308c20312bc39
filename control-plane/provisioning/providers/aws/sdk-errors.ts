// Internal: how an AWS SDK v3 error becomes a ProviderError. Not exported from the barrel.
import {
  ProviderConfigurationError,
  ProviderRejectedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type ProviderError,
} from './errors.js';

/** Throttling names across Organizations, CloudFormation and Cognito; the SDK has already retried these (3 attempts by default). */
const THROTTLING = new Set([
  'TooManyRequestsException',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ConcurrentModificationException',
  'FinalizingOrganizationException',
]);

const UNAVAILABLE = new Set(['ServiceException', 'InternalErrorException', 'InternalFailure', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout']);

const DENIED = new Set([
  'AccessDeniedException',
  'AccessDeniedForDependencyException',
  'AccessDenied',
  'NotAuthorizedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'AWSOrganizationsNotInUseException',
  'CredentialsProviderError',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** The error's `name` (SDK v3 service errors carry the service's error code there). */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

export function isNamed(error: unknown, ...names: string[]): boolean {
  const name = errorName(error);
  return name !== undefined && names.includes(name);
}

/** The service's message, whatever the SDK named the field. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** Maps an SDK error of `service operation` to the ProviderError the workflow acts on. */
export function fromSdkError(service: string, operation: string, error: unknown): ProviderError {
  const name = errorName(error) ?? 'Error';
  const message = `${service} ${operation} failed: ${name}: ${errorMessage(error)}`;
  if (THROTTLING.has(name)) {
    return new ProviderThrottledError(message, { cause: error });
  }
  if (DENIED.has(name)) {
    return new ProviderConfigurationError(`${message}. Check the credentials and the IAM policy in docs/aws-providers.md.`, { cause: error });
  }
  const fault = (error as { $fault?: unknown } | undefined)?.$fault;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (UNAVAILABLE.has(name) || fault === 'server' || (typeof code === 'string' && NETWORK_CODES.has(code))) {
    return new ProviderUnavailableError(message, { cause: error });
  }
  return new ProviderRejectedError(message, { cause: error });
}

/** Runs one SDK call, mapping any error it throws. */
export async function call<T>(service: string, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw fromSdkError(service, operation, error);
  }
}
