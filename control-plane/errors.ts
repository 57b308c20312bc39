/** A failing field of a request: where it is (a JSON pointer within the body, path, query or headers) and why. */
export interface FieldError {
  readonly in: 'body' | 'path' | 'query' | 'header';
  readonly pointer: string;
  readonly detail: string;
}

interface ControlPlaneErrorOptions {
  readonly cause?: unknown;
  readonly errors?: readonly FieldError[];
}

/**
 * Base of the control plane's domain errors. Each subclass carries the HTTP status and problem
 * type it maps to, so the one error middleware needs no table of its own.
 */
export class ControlPlaneError extends Error {
  readonly status: number = 500;
  readonly title: string = 'Internal error';
  readonly errors: readonly FieldError[];

  constructor(message: string, options: ControlPlaneErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.errors = options.errors ?? [];
  }

  /** The last part of the problem type URI, e.g. `validation-failed`. */
  get type(): string {
    return this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  }
}

export class BadRequestError extends ControlPlaneError {
  override readonly status = 400;
  override readonly title = 'Validation failed';
}

export class UnauthenticatedError extends ControlPlaneError {
  override readonly status = 401;
  override readonly title = 'Unauthenticated';
}

export class ForbiddenError extends ControlPlaneError {
  override readonly status = 403;
  override readonly title = 'Forbidden';
}

export class NotFoundError extends ControlPlaneError {
  override readonly status = 404;
  override readonly title = 'Not found';
}

export class ConflictError extends ControlPlaneError {
  override readonly status = 409;
  override readonly title = 'Conflict';
}

export class PayloadTooLargeError extends ControlPlaneError {
  override readonly status = 413;
  override readonly title = 'Payload too large';
}

export class UnsupportedMediaTypeError extends ControlPlaneError {
  override readonly status = 415;
  override readonly title = 'Unsupported media type';
}

/** The request is well formed but asks for something the kit cannot do (unknown plan, ...). */
export class UnprocessableError extends ControlPlaneError {
  override readonly status = 422;
  override readonly title = 'Unprocessable request';
}

/** The same Idempotency-Key came back with a different request. */
export class IdempotencyMismatchError extends ControlPlaneError {
  override readonly status = 422;
  override readonly title = 'Idempotency key reused';
}
