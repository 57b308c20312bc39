import type { CognitoIdentityProviderClientConfig } from '@aws-sdk/client-cognito-identity-provider';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { KinesisClientConfig } from '@aws-sdk/client-kinesis';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import { LocalCloudValidationError } from './errors.js';

/** Where a local server answers: what every `startLocalX()` returns, or any `{ endpoint, region }`. */
export interface LocalEndpoint {
  /** Base URL, such as `http://127.0.0.1:4567`. */
  readonly endpoint: string;
  /** The region to sign requests for. */
  readonly region: string;
}

/** Credentials for the local servers, which check none (kinesalite, dynalite, cognito-local). */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** s3rver knows one key pair, `S3RVER`/`S3RVER`, and refuses other key ids (it does not check SigV4 signatures). */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * Configuration for a `KinesisClient` of a local Kinesis: endpoint, region, dummy credentials, and an
 * HTTP/1.1 handler. The SDK v3 Kinesis client speaks HTTP/2 by default, which kinesalite does not.
 *
 * ```ts
 * const client = new KinesisClient(localKinesisClientConfig(kinesis));
 * ```
 */
export function localKinesisClientConfig(local: LocalEndpoint): KinesisClientConfig & { readonly endpoint: string; readonly region: string } {
  return { ...base(local, 'localKinesisClientConfig'), credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() };
}

/**
 * Configuration for an `S3Client` of a local S3 (s3rver): endpoint, region, path-style addressing (no
 * `bucket.host` names), s3rver's own key pair, and checksums only where S3 requires them. With the SDK's
 * default (`WHEN_SUPPORTED`), streamed uploads are sent `aws-chunked` with a checksum trailer, which s3rver
 * would store verbatim as the object's bytes.
 */
export function localS3ClientConfig(local: LocalEndpoint): S3ClientConfig & { readonly endpoint: string; readonly region: string } {
  return {
    ...base(local, 'localS3ClientConfig'),
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** Configuration for a `DynamoDBClient` (and so a `DynamoDBDocumentClient`) of a local DynamoDB: endpoint, region, dummy credentials. */
export function localDynamoDbClientConfig(local: LocalEndpoint): DynamoDBClientConfig & { readonly endpoint: string; readonly region: string } {
  return { ...base(local, 'localDynamoDbClientConfig'), credentials: LOCAL_CREDENTIALS };
}

/** Configuration for a `CognitoIdentityProviderClient` of a local Cognito: endpoint, region, dummy credentials. */
export function localCognitoClientConfig(
  local: LocalEndpoint,
): CognitoIdentityProviderClientConfig & { readonly endpoint: string; readonly region: string } {
  return { ...base(local, 'localCognitoClientConfig'), credentials: LOCAL_CREDENTIALS };
}

function base(local: LocalEndpoint, caller: string): { endpoint: string; region: string } {
  let url: URL | undefined;
  try {
    url = new URL(local.endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LocalCloudValidationError(
      `${caller}: endpoint must be an http(s) URL, received ${JSON.stringify(local.endpoint)}. Pass what a startLocalX() function returned, for example { endpoint: 'http://127.0.0.1:4567', region: 'us-east-1' }.`,
    );
  }
  if (typeof local.region !== 'string' || local.region.trim() === '') {
    throw new LocalCloudValidationError(
      `${caller}: region must be a non-empty string, received ${JSON.stringify(local.region)}. Pass the \`region\` a startLocalX() function returned.`,
    );
  }
  return { endpoint: local.endpoint.replace(/\/+$/, ''), region: local.region };
}
