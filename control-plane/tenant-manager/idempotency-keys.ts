/**
 * How long a caller's Idempotency-Key holds: within the retention a repeat replays the first answer;
 * after it the key is free again, and the sweeper deletes the stored answers so that the table holds one
 * retention's worth of keys, not every key ever sent.
 */
import { pino, type Logger } from 'pino';
import type { Database } from '../db/database.js';
import { ControlPlaneError } from '../errors.js';

/** 24 hours, as Stripe and the IETF Idempotency-Key draft suggest: longer than any client retries. */
export const DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A retention or sweep setting was out of range. */
export class IdempotencyKeySettingsError extends ControlPlaneError {}

export function checkRetentionMs(retentionMs: number): number {
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 60_000) {
    throw new IdempotencyKeySettingsError(`The Idempotency-Key retention must be a whole number of milliseconds of at least one minute; received ${String(retentionMs)}.`);
  }
  return retentionMs;
}

export interface IdempotencyKeySweeperProps {
  readonly db: Database;
  /** @default DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS */
  readonly retentionMs?: number;
  /**
   * Wait between two sweeps.
   * @default 3_600_000 (an hour)
   */
  readonly intervalMs?: number;
  /**
   * Keys deleted per statement: short transactions that never hold many row locks.
   * @default 1000
   */
  readonly batchSize?: number;
  /** @default - the system clock */
  readonly clock?: () => Date;
  /** @default - a silent logger */
  readonly logger?: Logger;
}

/** Deletes the Idempotency-Keys older than the retention, now and then every `intervalMs`. */
export class IdempotencyKeySweeper {
  private readonly retentionMs: number;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly clock: () => Date;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly props: IdempotencyKeySweeperProps) {
    this.retentionMs = checkRetentionMs(props.retentionMs ?? DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS);
    this.intervalMs = props.intervalMs ?? 3_600_000;
    this.batchSize = props.batchSize ?? 1000;
    if (!Number.isSafeInteger(this.intervalMs) || this.intervalMs < 1000) {
      throw new IdempotencyKeySettingsError(`intervalMs must be a whole number of milliseconds >= 1000; received ${String(props.intervalMs)}.`);
    }
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new IdempotencyKeySettingsError(`batchSize must be an integer from 1 to 10000; received ${String(props.batchSize)}.`);
    }
    this.clock = props.clock ?? (() => new Date());
    this.logger = props.logger ?? pino({ level: 'silent' });
  }

  /** Deletes every expired key, a batch per statement; returns how many. */
  async sweep(): Promise<number> {
    const expiredBefore = new Date(this.clock().getTime() - this.retentionMs);
    let deleted = 0;
    for (;;) {
      const batch: unknown[] = await this.props.db.asPlatform((trx) =>
        trx('idempotency_keys')
          .whereIn(['caller', 'key'], trx('idempotency_keys').select('caller', 'key').where('created_at', '<', expiredBefore).orderBy('created_at').limit(this.batchSize))
          .delete()
          .returning('key'),
      );
      deleted += batch.length;
      if (batch.length < this.batchSize) break;
    }
    if (deleted > 0) this.logger.info({ deleted, expiredBefore }, 'expired Idempotency-Keys deleted');
    return deleted;
  }

  /** Sweeps now, then every `intervalMs`; a failed sweep is logged and tried again at the next. */
  start(): void {
    if (this.timer !== undefined) return;
    const run = (): void => {
      this.running = this.sweep().catch((error: unknown) => this.logger.error({ err: error }, 'sweeping expired Idempotency-Keys failed; trying again at the next interval'));
    };
    run();
    this.timer = setInterval(run, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
