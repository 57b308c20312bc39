/** Errors of the analytics consumer (convention 11: a base class, subclasses set `name` and pass `cause`). */

/** Base of every error the analytics consumer, its store and its Lambda handler throw. */
export class AnalyticsError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AnalyticsError';
  }
}

/** Options or configuration are invalid; the message names the value received and how to fix it. */
export class AnalyticsConfigError extends AnalyticsError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AnalyticsConfigError';
  }
}

/** Another worker holds the shard's lease now (ours expired, or it was taken over): this worker stops reading the shard. */
export class LeaseLostError extends AnalyticsError {
  public readonly shardId: string;

  public constructor(shardId: string, options?: ErrorOptions) {
    super(`The lease of shard ${shardId} is no longer ours (it expired and another worker took it): stopped reading it.`, options);
    this.name = 'LeaseLostError';
    this.shardId = shardId;
  }
}

/** A stored state file (a tenant-day file or a shard state) could not be read back: written by something else, or corrupted. */
export class AnalyticsStateError extends AnalyticsError {
  /** The S3 key of the file. */
  public readonly key: string;

  public constructor(key: string, message: string, options?: ErrorOptions) {
    super(`${key}: ${message}`, options);
    this.name = 'AnalyticsStateError';
    this.key = key;
  }
}
