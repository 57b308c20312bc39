/**
 * `user.login` from the identity component: a handler for Cognito's PostAuthentication trigger that
 * puts one `user.login` per sign-in of a tenant user on the central event stream. On AWS it is the
 * pool's trigger (`LoginEvents` in data-plane/infra); locally cognito-local calls it in process
 * (`startLocalCognito({ triggers })`) with the event it builds, the same shape as Cognito's.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { pino, type Logger } from 'pino';

import { createEvent, type KitEvent } from '../events.js';
import { backoffDelay, isStreamName } from '../private/kinesis-limits.js';
import { LOGIN_EVENTS_ENV } from './environment.js';
import { IdentityEventsConfigError } from './errors.js';

/** The `source` of the events this handler writes. */
export const LOGIN_EVENT_SOURCE = 'cognito/post-authentication';

/** The user attribute naming the user's tenant; platform operators have none. */
const TENANT_ID_ATTRIBUTE = 'custom:tenant_id';

export interface LoginEventsConfig {
  /** The central event stream's name. */
  readonly streamName: string;
  /**
   * Most PutRecord attempts per sign-in.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Time all attempts and the waits between them may take, in milliseconds. Cognito gives a trigger
   * 5 seconds (then retries it, then fails the sign-in): the budget keeps well inside that.
   * @default 2000
   */
  readonly budgetMs?: number;
  /**
   * First backoff between attempts, in milliseconds; each wait is a random time up to
   * `baseDelayMs x 2^(attempt - 1)` (full jitter), cut to what is left of the budget.
   * @default 100
   */
  readonly baseDelayMs?: number;
}

export interface LoginEventsDeps {
  /** @default - a new KinesisClient for the function's region, with no retries of its own (the handler retries) */
  readonly kinesis?: KinesisClient;
  /** @default - a pino logger at `info` */
  readonly logger?: Logger;
}

/** A PostAuthentication handler: it returns the event unchanged, as Cognito requires. */
export type LoginEventsHandler = (event: PostAuthenticationTriggerEvent) => Promise<PostAuthenticationTriggerEvent>;

function wholeNumber(field: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new IdentityEventsConfigError(`createLoginEventsHandler: ${field} must be a whole number from ${min} to ${max}; received ${JSON.stringify(value)}. Leave it out for ${fallback}.`);
  }
  return value;
}

/** The handler's configuration from its environment: `EVENT_STREAM_NAME` (required). */
export function loginEventsConfigFromEnvironment(env: Readonly<Record<string, string | undefined>>): LoginEventsConfig {
  const streamName = env[LOGIN_EVENTS_ENV.streamName];
  if (streamName === undefined || streamName === '') {
    throw new IdentityEventsConfigError(`${LOGIN_EVENTS_ENV.streamName} must name the central event stream; it is not set.`);
  }
  return { streamName };
}

/**
 * The PostAuthentication handler. A user with a `custom:tenant_id` gets one `user.login` (subject = the
 * tenant, `userId` = the user's `sub`, partition key = the tenant id); a platform operator (no tenant)
 * gets none.
 *
 * `sessionId` is a new UUID per authentication: Cognito gives the trigger no session id (its event holds
 * the user's attributes and `newDeviceUsed`, nothing of the session or its tokens), so each sign-in is a
 * session of its own. A `user.logout` of the same session would need that id handed to the client.
 *
 * The handler never fails the sign-in. Analytics is not worth locking users out: when the stream does
 * not take the record within the budget (a few attempts with jittered exponential backoff), the whole
 * event is logged at error level, with its partition key and stream, so that an operator can replay it
 * (`PutRecord` of the logged `event`, `partitionKey`). Every attempt sends the same event `id`, so an
 * attempt that timed out but landed is dropped as a repeat by the aggregator. An event that cannot be
 * built (a `custom:tenant_id` that is not a tenant id, no `sub`) is logged the same way, with the
 * attributes, and the sign-in goes on.
 */
export function createLoginEventsHandler(config: LoginEventsConfig, deps: LoginEventsDeps = {}): LoginEventsHandler {
  const streamName = config.streamName;
  if (!isStreamName(streamName)) {
    throw new IdentityEventsConfigError(
      `createLoginEventsHandler: streamName must be a Kinesis stream name (1-128 of a-z A-Z 0-9 _ . -); received ${JSON.stringify(streamName)}. Pass the central event stream's name.`,
    );
  }
  const maxAttempts = wholeNumber('maxAttempts', config.maxAttempts, 1, 10, 3);
  const budgetMs = wholeNumber('budgetMs', config.budgetMs, 1, 4000, 2000);
  const baseDelayMs = wholeNumber('baseDelayMs', config.baseDelayMs, 0, 4000, 100);
  const kinesis = deps.kinesis ?? new KinesisClient({ maxAttempts: 1 });
  const logger = deps.logger ?? pino({ level: 'info' });

  async function put(event: KitEvent<'user.login'>): Promise<{ delivered: true } | { delivered: false; attempts: number; error: unknown }> {
    const deadline = Date.now() + budgetMs;
    const data = Buffer.from(JSON.stringify(event), 'utf8');
    let error: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        await kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: event.subject, Data: data }), {
          abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
        });
        return { delivered: true };
      } catch (caught) {
        error = caught;
      }
      const wait = backoffDelay(attempt, baseDelayMs, budgetMs);
      if (attempt >= maxAttempts || Date.now() + wait >= deadline) return { delivered: false, attempts: attempt, error };
      await sleep(wait);
    }
  }

  return async (trigger) => {
    const attributes = trigger.request.userAttributes;
    const tenantId = attributes[TENANT_ID_ATTRIBUTE];
    if (tenantId === undefined || tenantId === '') return trigger;
    let event: KitEvent<'user.login'>;
    try {
      event = createEvent({ type: 'user.login', source: LOGIN_EVENT_SOURCE, tenantId, time: new Date(), data: { userId: attributes.sub ?? '', sessionId: randomUUID() } });
    } catch (error) {
      logger.error({ err: error, userName: trigger.userName, userPoolId: trigger.userPoolId, tenantId, sub: attributes.sub }, 'identity-events: no user.login for this sign-in, its user attributes do not make a valid event');
      return trigger;
    }
    const outcome = await put(event);
    // Not delivered: log the whole event to replay, and let the user in all the same (see above).
    if (!outcome.delivered) {
      logger.error(
        { err: outcome.error, attempts: outcome.attempts, streamName, partitionKey: event.subject, event },
        'identity-events: user.login not delivered; the sign-in goes on. Replay the logged event with PutRecord (partition key = partitionKey)',
      );
    }
    return trigger;
  };
}
