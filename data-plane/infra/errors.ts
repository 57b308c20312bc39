/** Errors of the data-plane infrastructure constructs (convention 11). */

/** Base of every error the data-plane constructs throw. */
export class DataPlaneInfraError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'DataPlaneInfraError';
  }
}

/** A prop of `AnalyticsPipeline` is out of range; `field` names it and `received` is what was given. */
export class AnalyticsPipelineConfigError extends DataPlaneInfraError {
  public readonly field: string;
  public readonly received: unknown;

  public constructor(field: string, received: unknown, fix: string, options?: { readonly cause?: unknown }) {
    super(`${field}: ${fix} (received ${JSON.stringify(received) ?? typeof received})`, options);
    this.name = 'AnalyticsPipelineConfigError';
    this.field = field;
    this.received = received;
  }
}

/** A prop of `LoginEvents` is out of range; `field` names it and `received` is what was given. */
export class LoginEventsConfigError extends DataPlaneInfraError {
  public readonly field: string;
  public readonly received: unknown;

  public constructor(field: string, received: unknown, fix: string, options?: { readonly cause?: unknown }) {
    super(`${field}: ${fix} (received ${JSON.stringify(received) ?? typeof received})`, options);
    this.name = 'LoginEventsConfigError';
    this.field = field;
    this.received = received;
  }
}
