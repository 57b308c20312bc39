import path from 'node:path';

import type { Logger } from 'pino';

import { startLocalCognito, type LocalCognito, type LocalCognitoTriggers } from './cognito.js';
import { startLocalDynamoDb, type LocalDynamoDb } from './dynamodb.js';
import { LocalCloudError, LocalCloudStartError, LocalCloudValidationError } from './errors.js';
import { startLocalKinesis, type LocalKinesis } from './kinesis.js';
import { checkDataDir, messageOf } from './private/server.js';
import { startLocalS3, type LocalS3 } from './s3.js';

/** The TCP port of each local server, on 127.0.0.1; a missing one (or 0) takes any free port. */
export interface LocalCloudPorts {
  readonly cognito?: number;
  readonly kinesis?: number;
  readonly s3?: number;
  readonly dynamoDb?: number;
}

export interface LocalCloudOptions {
  /**
   * Folder for every server's data, one subfolder each: `cognito/`, `kinesis/`, `s3/`, `dynamodb/`. Reusing
   * it keeps pools and users, streams and records, buckets and objects, tables and items.
   * @default - nothing kept: Kinesis and DynamoDB in memory, Cognito and S3 in temporary folders removed on stop
   */
  readonly dataDir?: string;
  /**
   * Ports to listen on.
   * @default - any free port for each server (read them from the endpoints)
   */
  readonly ports?: LocalCloudPorts;
  /**
   * Logger, passed to every server (each logs at `warn` or quieter, with `service` set).
   * @default - a silent logger
   */
  readonly logger?: Logger;
  /**
   * Lambda triggers of the local Cognito, called in this process (see `LocalCognitoOptions.triggers`).
   * @default - no triggers
   */
  readonly cognitoTriggers?: LocalCognitoTriggers;
}

/** The four local servers of the kit, running in this process. */
export interface LocalCloud {
  readonly cognito: LocalCognito;
  readonly kinesis: LocalKinesis;
  readonly s3: LocalS3;
  readonly dynamoDb: LocalDynamoDb;
  /** Stops every server, all at once; a failure to stop one does not keep the others running. Safe to call twice. */
  stop(): Promise<void>;
}

/** The subfolder of `LocalCloudOptions.dataDir` each server keeps its data in. */
export const LOCAL_CLOUD_FOLDERS = { cognito: 'cognito', kinesis: 'kinesis', s3: 's3', dynamoDb: 'dynamodb' } as const;

type ServiceName = keyof typeof LOCAL_CLOUD_FOLDERS;

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Starts Cognito (cognito-local), Kinesis (kinesalite), S3 (s3rver) and DynamoDB (dynalite) in this process,
 * concurrently, on 127.0.0.1. When one fails to start, the ones that did are stopped before the error is thrown.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  checkDataDir('startLocalCloud', options.dataDir, '.data', 'to keep nothing');
  const ports = options.ports ?? {};
  const unknown = Object.keys(ports).filter((name) => !(name in LOCAL_CLOUD_FOLDERS));
  if (unknown.length > 0) {
    throw new LocalCloudValidationError(
      `startLocalCloud: ports names unknown servers (${unknown.join(', ')}). Use ${Object.keys(LOCAL_CLOUD_FOLDERS).join(', ')}.`,
    );
  }
  const folder = (name: ServiceName): string | undefined =>
    options.dataDir === undefined ? undefined : path.join(options.dataDir, LOCAL_CLOUD_FOLDERS[name]);
  const common = (name: ServiceName) => ({
    ...(folder(name) === undefined ? {} : { dataDir: folder(name) }),
    ...(ports[name] === undefined ? {} : { port: ports[name] }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });

  const [cognito, kinesis, s3, dynamoDb] = await Promise.allSettled([
    startLocalCognito({ ...common('cognito'), ...(options.cognitoTriggers === undefined ? {} : { triggers: options.cognitoTriggers }) }),
    startLocalKinesis(common('kinesis')),
    startLocalS3(common('s3')),
    startLocalDynamoDb(common('dynamoDb')),
  ]);
  if (cognito.status === 'fulfilled' && kinesis.status === 'fulfilled' && s3.status === 'fulfilled' && dynamoDb.status === 'fulfilled') {
    const servers = { cognito: cognito.value, kinesis: kinesis.value, s3: s3.value, dynamoDb: dynamoDb.value };
    let stopped: Promise<void> | undefined;
    return {
      ...servers,
      stop: () => {
        stopped ??= stopAll(Object.values(servers));
        return stopped;
      },
    };
  }

  const outcomes = { cognito, kinesis, s3, dynamoDb };
  const started = Object.values(outcomes).flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failed = Object.entries(outcomes).flatMap(([name, outcome]) => (outcome.status === 'rejected' ? [{ name, reason: outcome.reason as unknown }] : []));
  await stopAll(started).catch(() => undefined);
  const cause = failed.length === 1 ? failed[0]?.reason : new AggregateError(failed.map((failure) => failure.reason));
  const message = `startLocalCloud: ${failed.map((failure) => `${failure.name} did not start (${messageOf(failure.reason)})`).join('; ')}. The servers that had started were stopped.`;
  throw failed.every((failure) => failure.reason instanceof LocalCloudValidationError)
    ? new LocalCloudValidationError(message, { cause })
    : new LocalCloudStartError(message, { cause });
}

async function stopAll(servers: readonly Stoppable[]): Promise<void> {
  const results = await Promise.allSettled(servers.map((server) => server.stop()));
  const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (errors.length > 0) {
    throw new LocalCloudError(`The local cloud did not stop cleanly: ${errors.map(messageOf).join('; ')}`, {
      cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
    });
  }
}
