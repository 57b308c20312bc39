/** Errors of the job and data-lake store (convention 11: a base class, subclasses set `name` and pass `cause`). */

export class JobStoreError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'JobStoreError';
  }
}

/** Bad arguments from the caller: the message says which and how to fix them. */
export class JobStoreValidationError extends JobStoreError {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'JobStoreValidationError';
  }
}

/** No such job, dataset or object in the tenant (another tenant's items are never visible). */
export class JobStoreNotFoundError extends JobStoreError {
  public readonly kind: 'job' | 'dataset' | 'object';
  public readonly id: string;

  public constructor(kind: 'job' | 'dataset' | 'object', id: string, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'JobStoreNotFoundError';
    this.kind = kind;
    this.id = id;
  }
}

/**
 * A conditional write lost: the item changed since it was read (another writer won the race), or its
 * state does not allow the change (cancelling a finished job). `current` is the item as it is now, when known.
 */
export class JobConflictError<T = unknown> extends JobStoreError {
  public readonly current: T | undefined;

  public constructor(message: string, options?: { readonly cause?: unknown; readonly current?: T }) {
    super(message, options);
    this.name = 'JobConflictError';
    this.current = options?.current;
  }
}

/** An executor's lease on a running job is gone: another executor re-claimed it after the lease expired. */
export class JobLeaseLostError extends JobConflictError {
  public constructor(message: string, options?: { readonly cause?: unknown; readonly current?: unknown }) {
    super(message, options);
    this.name = 'JobLeaseLostError';
  }
}

/** The same Idempotency-Key came back with a different request. */
export class IdempotencyKeyReusedError extends JobStoreError {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'IdempotencyKeyReusedError';
  }
}
