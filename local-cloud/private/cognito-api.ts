import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';

import { localCognitoClientConfig } from '../client-config.js';
import { LocalCloudError, LocalCloudServiceError, LocalCloudValidationError } from '../errors.js';

/** Where a Cognito user-pool API answers: a local cognito-local, or AWS itself. */
export interface CognitoEndpoint {
  /** Base URL of the API, such as `http://127.0.0.1:PORT`; without a trailing slash it prefixes token issuers. */
  readonly endpoint: string;
  /** The region to sign requests for. */
  readonly region: string;
}

/** Checks the endpoint and returns it without trailing slashes. */
export function checkedEndpoint(cognito: CognitoEndpoint, caller: string): CognitoEndpoint {
  let url: URL | undefined;
  try {
    url = new URL(cognito.endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LocalCloudValidationError(
      `${caller}: endpoint must be an http(s) URL, received ${JSON.stringify(cognito.endpoint)}. Pass the \`endpoint\` of startLocalCognito(), for example http://127.0.0.1:9229.`,
    );
  }
  if (typeof cognito.region !== 'string' || cognito.region.trim() === '') {
    throw new LocalCloudValidationError(
      `${caller}: region must be a non-empty string, received ${JSON.stringify(cognito.region)}. Pass the \`region\` of startLocalCognito() ('local').`,
    );
  }
  return { endpoint: cognito.endpoint.replace(/\/+$/, ''), region: cognito.region };
}

/** Runs `use` with a client for the endpoint (dummy credentials: cognito-local does not check signatures), then frees its sockets. */
export async function withCognitoClient<T>(cognito: CognitoEndpoint, use: (client: CognitoIdentityProviderClient) => Promise<T>): Promise<T> {
  const client = new CognitoIdentityProviderClient(localCognitoClientConfig(cognito));
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

/** Makes one API call; a failure becomes a LocalCloudServiceError naming the operation, with the SDK error as `cause`. */
export async function cognitoCall<T>(cognito: CognitoEndpoint, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw serviceError(cognito, operation, error);
  }
}

export function isErrorNamed(error: unknown, name: string): boolean {
  return error instanceof LocalCloudServiceError ? isErrorNamed(error.cause, name) : error instanceof Error && error.name === name;
}

/** The error to throw when `operation` failed with `error`: a LocalCloudServiceError naming it, with the SDK error as `cause`. */
export function serviceError(cognito: CognitoEndpoint, operation: string, error: unknown): LocalCloudError {
  if (error instanceof LocalCloudError) {
    return error;
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const unreachable = /ECONNREFUSED|ECONNRESET|ENOTFOUND|socket hang up/i.test(detail + describeCode(error));
  const hint = unreachable
    ? ' Nothing answers there: start it first (startLocalCognito()) and pass its endpoint, or check that it was not stopped.'
    : '';
  return new LocalCloudServiceError(`Cognito ${operation} at ${cognito.endpoint} failed: ${detail}.${hint}`, { cause: error });
}

function describeCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? ` ${error.code}` : '';
}
