import './private/quiet-aws-sdk-v2.js';

import { mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import path from 'node:path';

import { Router } from 'cognito-local/lib/server/Router.js';
import type { Config } from 'cognito-local/lib/server/config.js';
import { createServer as createCognitoServer } from 'cognito-local/lib/server/server.js';
import { DateClock, LambdaService, MessagesService, TriggersService, type Services } from 'cognito-local/lib/services/index.js';
import { CognitoServiceImpl } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import { CryptoService } from 'cognito-local/lib/services/crypto.js';
import { ConsoleMessageSender } from 'cognito-local/lib/services/messageDelivery/consoleMessageSender.js';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import { otp } from 'cognito-local/lib/services/otp.js';
import { JwtTokenGenerator, type TokenConfig } from 'cognito-local/lib/services/tokenGenerator.js';
import { UserPoolServiceFactoryImpl, type UserPool, type UserPoolServiceFactory } from 'cognito-local/lib/services/userPoolService.js';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import type { Logger } from 'pino';

import { LocalCloudError, LocalCloudStartError, LocalCloudValidationError } from './errors.js';
import { CoalescingDataStoreFactory } from './private/coalescing-store.js';
import {
  checkDataDir,
  checkedPort,
  closeServer,
  HOST,
  listenOn,
  messageOf,
  once,
  removeDataDir,
  serviceLogger,
  temporaryDataDir,
} from './private/server.js';

/** The region cognito-local stamps on what it creates (pool ids are `local_...`, ARNs `arn:aws:cognito-idp:local:...`). */
const LOCAL_REGION = 'local';

const SERVICE = 'cognito-local';

/** The file cognito-local keeps the app clients in, `clients.json`; its start skips it when listing the pools. */
const CLIENTS_STORE = 'clients';

export interface LocalCognitoOptions {
  /**
   * Folder for cognito-local's data (its database files go under `db/` inside it). Reusing the folder on a
   * later start keeps the user pools, app clients, groups and users. Only one server may use a folder at a time.
   * @default - a fresh temporary folder, removed on stop
   */
  readonly dataDir?: string;
  /**
   * TCP port to listen on, on 127.0.0.1.
   * @default 0 (any free port; read the chosen one from `endpoint`)
   */
  readonly port?: number;
  /**
   * How long a change to a user pool (or the app clients) waits before the pool's file is written; the
   * changes made meanwhile share that one write. Each change is appended to a journal first, so a process
   * killed between two writes loses nothing: the next start replays the journal. Stop writes what is pending.
   * @default 1000
   */
  readonly writeDelayMs?: number;
  /**
   * Logger for cognito-local. It gets a child at level `warn` (or the parent's level when that is quieter).
   * @default - a silent logger
   */
  readonly logger?: Logger;
  /**
   * Lambda triggers of every pool, called in this process with the event cognito-local builds (the shape
   * Cognito gives a trigger's Lambda), serialized to JSON and back as a Lambda invocation would be.
   * cognito-local fires PostAuthentication on InitiateAuth (not AdminInitiateAuth), and ignores a
   * trigger's failure (it logs it and signs the user in).
   * @default - no triggers
   */
  readonly triggers?: LocalCognitoTriggers;
}

/** Trigger functions of the local Cognito, by trigger; each returns the event (Cognito reads its `response`). */
export interface LocalCognitoTriggers {
  /** Called after a user signed in with a password (InitiateAuth USER_PASSWORD_AUTH). */
  readonly PostAuthentication?: (event: PostAuthenticationTriggerEvent) => Promise<PostAuthenticationTriggerEvent>;
}

const TRIGGER_NAMES = ['PostAuthentication'] as const satisfies readonly (keyof LocalCognitoTriggers)[];

/** A running cognito-local, speaking the Cognito user-pool API (`cognito-idp`). */
export interface LocalCognito {
  /** Base URL, `http://127.0.0.1:PORT`: the SDK endpoint, and the prefix of token issuers (`${endpoint}/${userPoolId}`). */
  readonly endpoint: string;
  /** The region to give SDK clients: `local`, the one cognito-local puts in pool ids and ARNs. */
  readonly region: string;
  /** The data folder in use (the temporary one when none was given). */
  readonly dataDir: string;
  /** Stops listening, closes open connections, and removes the data folder when it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_WRITE_DELAY_MS = 1000;

type CognitoLocalLogger = Parameters<typeof createCognitoServer>[1];
type LambdaClient = ConstructorParameters<typeof LambdaService>[1];

/**
 * Starts cognito-local in this process, on 127.0.0.1, with its data in `options.dataDir`.
 *
 * cognito-local's own `createDefaultServer` reads PORT/HOST from the environment and keeps its data in
 * `.cognito` under the working directory; this composes the same services with the folder, port and
 * logger given here instead.
 */
export async function startLocalCognito(options: LocalCognitoOptions = {}): Promise<LocalCognito> {
  const port = checkedPort('startLocalCognito', options.port);
  const writeDelayMs = options.writeDelayMs ?? DEFAULT_WRITE_DELAY_MS;
  if (!Number.isInteger(writeDelayMs) || writeDelayMs < 0 || writeDelayMs > 60_000) {
    throw new LocalCloudValidationError(
      `startLocalCognito: writeDelayMs must be a whole number of milliseconds from 0 to 60000, received ${JSON.stringify(options.writeDelayMs)}. Leave it out for ${DEFAULT_WRITE_DELAY_MS}.`,
    );
  }
  checkDataDir('startLocalCognito', options.dataDir, '.data/cognito', 'for a temporary folder');
  const triggers = checkedTriggers(options.triggers);

  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await temporaryDataDir('cognito'));
  try {
    return await listen(dataDir, ownsDataDir, port, writeDelayMs, triggers, serviceLogger(options.logger, SERVICE));
  } catch (error) {
    if (ownsDataDir) {
      await removeDataDir(dataDir);
    }
    throw error;
  }
}

function checkedTriggers(triggers: LocalCognitoTriggers | undefined): LocalCognitoTriggers {
  if (triggers === undefined) return {};
  if (typeof triggers !== 'object' || triggers === null) {
    throw new LocalCloudValidationError(`startLocalCognito: triggers must be an object of trigger functions, received ${JSON.stringify(triggers)}. Leave it out for none.`);
  }
  for (const [name, trigger] of Object.entries(triggers)) {
    if (!(TRIGGER_NAMES as readonly string[]).includes(name)) {
      throw new LocalCloudValidationError(`startLocalCognito: triggers names an unknown trigger ${JSON.stringify(name)}. The local Cognito supports: ${TRIGGER_NAMES.join(', ')}.`);
    }
    if (trigger !== undefined && typeof trigger !== 'function') {
      throw new LocalCloudValidationError(`startLocalCognito: triggers.${name} must be a function (event) => Promise<event>, received ${typeof trigger}.`);
    }
  }
  return triggers;
}

async function listen(dataDir: string, ownsDataDir: boolean, port: number, writeDelayMs: number, triggers: LocalCognitoTriggers, logger: Logger): Promise<LocalCognito> {
  const dbDir = path.join(dataDir, 'db');
  // The token generator keeps a reference to this object: the issuer domain is filled in once the port is known.
  const tokenConfig: TokenConfig = {};
  const stores = new CoalescingDataStoreFactory({
    directory: dbDir,
    writeDelayMs,
    onWriteError: (error) => logger.error({ err: error }, 'cognito-local could not write its data'),
  });
  let application: RequestListener;
  try {
    await mkdir(dbDir, { recursive: true });
    application = await composeCognitoLocal(dbDir, stores, tokenConfig, triggers, logger);
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw new LocalCloudStartError(
      `cognito-local could not load its data from ${dbDir}: ${messageOf(error)}. Check that the folder is writable and holds cognito-local's files only, or pass another dataDir.`,
      { cause: error },
    );
  }

  let endpoint = '';
  const server = createHttpServer((request, response) => {
    if (!serveOpenIdConfiguration(endpoint, request, response)) {
      application(request, response);
    }
  });
  endpoint = await listenOn(server, port, SERVICE);
  tokenConfig.IssuerDomain = endpoint;
  logger.debug({ endpoint, dataDir }, 'cognito-local started');

  return {
    endpoint,
    region: LOCAL_REGION,
    dataDir,
    stop: once(() =>
      closeServer(server, SERVICE).then(async () => {
        // Once no request can change the pools any more: what is still pending is written now.
        await stores.close();
        if (ownsDataDir) {
          await removeDataDir(dataDir);
        }
      }),
    ),
  };
}

/**
 * The wiring of cognito-local's `createDefaultServer`, with our folder, logger, token issuer and in-process
 * trigger functions, and the pools kept by `stores` (written coalesced) rather than by cognito-local's StormDB store (written on
 * every change).
 */
async function composeCognitoLocal(
  dbDir: string,
  stores: CoalescingDataStoreFactory,
  tokenConfig: TokenConfig,
  triggerFunctions: LocalCognitoTriggers,
  logger: Logger,
): Promise<RequestListener> {
  const cognitoLogger = logger as unknown as CognitoLocalLogger;
  const ctx = { logger: cognitoLogger };
  const config: Config = {
    LambdaClient: {},
    // Each configured trigger's "function name" is the trigger's own name, which inProcessLambda looks up.
    TriggerFunctions: Object.fromEntries(TRIGGER_NAMES.filter((name) => triggerFunctions[name] !== undefined).map((name) => [name, name])),
    // cognito-local's stock default: sign-in by email. SignUp reads it from here rather than from the pool.
    UserPoolDefaults: { UsernameAttributes: ['email'] },
    TokenConfig: tokenConfig,
    ServerConfig: { hostname: HOST, port: 0, development: false, https: false },
  };
  const clock = new DateClock();
  // What cognito-local's CognitoServiceFactoryImpl does, with the service that also tells `stores` of a deleted pool.
  const clients = await stores.create(ctx, CLIENTS_STORE, { Clients: {} });
  const cognito = new KitCognitoService(dbDir, clients, config.UserPoolDefaults, new UserPoolServiceFactoryImpl(clock, stores), stores);
  await cognito.init(ctx);
  const triggers = new TriggersService(clock, cognito, new LambdaService(config.TriggerFunctions, inProcessLambda(triggerFunctions)), new CryptoService(config.KMSConfig));
  const services: Services = {
    clock,
    cognito,
    config,
    messages: new MessagesService(triggers, new MessageDeliveryService(new ConsoleMessageSender())),
    otp,
    tokenGenerator: new JwtTokenGenerator(clock, triggers, tokenConfig),
    triggers,
  };
  const server = createCognitoServer(Router(services), cognitoLogger, config.ServerConfig, services);
  return server.application as RequestListener;
}

/** cognito-local's service, which stops writing a deleted pool's file before cognito-local removes it. */
class KitCognitoService extends CognitoServiceImpl {
  constructor(
    dataDirectory: string,
    clients: ConstructorParameters<typeof CognitoServiceImpl>[1],
    userPoolDefaults: ConstructorParameters<typeof CognitoServiceImpl>[2],
    userPoolServiceFactory: UserPoolServiceFactory,
    private readonly stores: CoalescingDataStoreFactory,
  ) {
    super(dataDirectory, clients, userPoolDefaults, userPoolServiceFactory);
  }

  override async deleteUserPool(ctx: Context, userPool: UserPool): Promise<void> {
    await this.stores.forget(userPool.Id);
    await super.deleteUserPool(ctx, userPool);
  }
}

type TriggerFunction = (event: unknown) => Promise<unknown>;

/**
 * The Lambda client cognito-local invokes triggers with (`invoke(params).promise()`, aws-sdk v2), calling
 * the trigger functions in this process. The payload goes through JSON both ways, as with a real Lambda,
 * and a thrown error comes back as Lambda reports an unhandled one (`FunctionError: 'Unhandled'`).
 */
function inProcessLambda(triggers: LocalCognitoTriggers): LambdaClient {
  const invoke = async (params: { FunctionName: string; Payload?: string }): Promise<{ StatusCode: number; Payload: string; FunctionError?: string }> => {
    const trigger = (triggers as Readonly<Record<string, TriggerFunction | undefined>>)[params.FunctionName];
    if (trigger === undefined) {
      throw new LocalCloudError(`cognito-local invoked the Lambda trigger ${JSON.stringify(params.FunctionName)}, which the local Cognito was not given.`);
    }
    try {
      const result = await trigger(JSON.parse(params.Payload ?? 'null'));
      return { StatusCode: 200, Payload: JSON.stringify(result) };
    } catch (error) {
      const errorType = error instanceof Error ? error.name : 'Error';
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: JSON.stringify({ errorType, errorMessage: messageOf(error) }) };
    }
  };
  return { invoke: (params: { FunctionName: string; Payload?: string }) => ({ promise: () => invoke(params) }) } as unknown as LambdaClient;
}

const OPENID_CONFIGURATION_PATH = /^\/([^/]+)\/\.well-known\/openid-configuration$/;

/**
 * cognito-local answers OpenID discovery with a hardcoded `http://localhost:9229` issuer; answer it with
 * the real one so that discovery-based verifiers agree with the tokens' `iss`.
 */
function serveOpenIdConfiguration(endpoint: string, request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' || request.url === undefined) {
    return false;
  }
  const match = OPENID_CONFIGURATION_PATH.exec(new URL(request.url, endpoint).pathname);
  if (!match?.[1]) {
    return false;
  }
  const issuer = `${endpoint}/${match[1]}`;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      authorization_endpoint: `${endpoint}/oauth2/authorize`,
      token_endpoint: `${endpoint}/oauth2/token`,
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
    }),
  );
  return true;
}
