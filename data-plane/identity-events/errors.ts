/** Errors of the identity events (convention 11: a base class, subclasses set `name` and pass `cause`). */

/** Base of every error the identity events throw. */
export class IdentityEventsError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IdentityEventsError';
  }
}

/** Options or configuration are invalid; the message names the value received and how to fix it. */
export class IdentityEventsConfigError extends IdentityEventsError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IdentityEventsConfigError';
  }
}
