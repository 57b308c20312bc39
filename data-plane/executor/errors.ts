/** Errors of the job executor (convention 11). */

export class JobExecutorError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'JobExecutorError';
  }
}

/** Bad props or configuration: the message names each problem and its fix. */
export class JobExecutorValidationError extends JobExecutorError {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'JobExecutorValidationError';
  }
}
