/** Base class of every error the local-cloud module throws. */
export class LocalCloudError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudError';
  }
}

/** A request to this module was invalid; the message says what was received and how to fix it. */
export class LocalCloudValidationError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudValidationError';
  }
}

/** A local server could not be started (port taken, data folder unreadable, ...). */
export class LocalCloudStartError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudStartError';
  }
}

/** What exists in a local service contradicts the request (a user of another tenant, two pools of one name). */
export class LocalCloudConflictError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudConflictError';
  }
}

/** A call to a local service's AWS API failed; `cause` holds the SDK error. */
export class LocalCloudServiceError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudServiceError';
  }
}
