/**
 * Errors of the AWS and Kubernetes providers. Every one says whether calling again can succeed:
 * the provisioning workflow retries a `retryable` error with capped backoff and records any other
 * as the step's failure.
 */

export interface ProviderErrorOptions {
  readonly cause?: unknown;
}

/** Base of the providers' errors. */
export class ProviderError extends Error {
  /** Whether the same call, made again later, can succeed (throttling, a busy resource, a server fault). */
  readonly retryable: boolean = false;

  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
}

/** The service throttled the call (TooManyRequestsException, Throttling, ConcurrentModificationException...). */
export class ProviderThrottledError extends ProviderError {
  override readonly retryable = true;
}

/** The service failed on its side or could not be reached (5xx, network, timeout). */
export class ProviderUnavailableError extends ProviderError {
  override readonly retryable = true;
}

/** The resource is in the middle of another operation (a stack updating, a change set still being created). */
export class ProviderBusyError extends ProviderError {
  override readonly retryable = true;
}

/** An account-wide quota is reached (ACCOUNT_NUMBER_LIMIT_EXCEEDED, stack count): retrying will not help until it is raised. */
export class ProviderLimitExceededError extends ProviderError {}

/** What exists belongs to someone else: a user of another tenant, an email of a closed account, an object labelled for another tenant. */
export class ProviderConflictError extends ProviderError {}

/** The thing the call names does not exist (an account outside the organization, an expired create-account request). */
export class ProviderNotFoundError extends ProviderError {}

/** The provider is set up or called wrongly (missing uploader or client factory, invalid input, access denied). */
export class ProviderConfigurationError extends ProviderError {}

/** The service refused the request for a reason the caller must fix (a validation error, a template CloudFormation rejects). */
export class ProviderRejectedError extends ProviderError {}
