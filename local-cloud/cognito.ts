import './private/quiet-aws-sdk-v2.js';

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Router } from 'cognito-local/lib/server/Router.js';
import type { Config } from 'cognito-local/lib/server/config.js';
import { createServer as createCognitoServer } from 'cognito-local/lib/server/server.js';
import { DateClock, LambdaService, MessagesService, TriggersService, type Services } from 'cognito-local/lib/services/index.js';
import { CognitoServiceFactoryImpl } from 'cognito-local/lib/services/cognitoService.js';
import { CryptoService } from 'cognito-local/lib/services/crypto.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import { ConsoleMessageSender } from 'cognito-local/lib/services/messageDelivery/consoleMessageSender.js';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import { otp } from 'cognito-local/lib/services/otp.js';
import { JwtTokenGenerator, type TokenConfig } from 'cognito-local/lib/services/tokenGenerator.js';
import { UserPoolServiceFactoryImpl } from 'cognito-local/lib/services/userPoolService.js';
import { pino, type Logger } from 'pino';

import { LocalCloudError, LocalCloudStartError, LocalCloudValidationError } from './errors.js';

/** The only address the local servers listen on: they are for this machine. */
const HOST = '127.0.0.1';

/** The region cognito-local stamps on what it creates (pool ids are `local_...`, ARNs `arn:aws:cognito-idp:local:...`). */
const LOCAL_REGION = 'local';

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
   * Logger for cognito-local. It gets a child at level `warn` (or the parent's level when that is quieter).
   * @default - a silent logger
   */
  readonly logger?: Logger;
}

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
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new LocalCloudValidationError(
      `startLocalCognito: port must be an integer from 0 to 65535, received ${JSON.stringify(port)}. Pass 0 (or leave it out) to take any free port.`,
    );
  }
  if (options.dataDir !== undefined && options.dataDir.trim() === '') {
    throw new LocalCloudValidationError(
      'startLocalCognito: dataDir is empty. Pass a folder path (for example `.data/cognito`), or leave dataDir out for a temporary folder.',
    );
  }

  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'saas-kit-cognito-')));
  try {
    return await listen(dataDir, ownsDataDir, port, cognitoLogger(options.logger));
  } catch (error) {
    if (ownsDataDir) {
      await rm(dataDir, { recursive: true, force: true });
    }
    throw error;
  }
}

async function listen(dataDir: string, ownsDataDir: boolean, port: number, logger: Logger): Promise<LocalCognito> {
  const dbDir = path.join(dataDir, 'db');
  // The token generator keeps a reference to this object: the issuer domain is filled in once the port is known.
  const tokenConfig: TokenConfig = {};
  let application: RequestListener;
  try {
    await mkdir(dbDir, { recursive: true });
    application = await composeCognitoLocal(dbDir, tokenConfig, logger);
  } catch (error) {
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
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new LocalCloudStartError(
      `cognito-local could not listen on ${HOST}:${port}: ${messageOf(error)}. Pass another port, or port 0 for any free one.`,
      { cause: error },
    );
  }

  endpoint = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  tokenConfig.IssuerDomain = endpoint;
  logger.debug({ endpoint, dataDir }, 'cognito-local started');

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    region: LOCAL_REGION,
    dataDir,
    stop: () => {
      stopped ??= closeServer(server).then(async () => {
        if (ownsDataDir) {
          await rm(dataDir, { recursive: true, force: true });
        }
      });
      return stopped;
    },
  };
}

/** The wiring of cognito-local's `createDefaultServer`, with our folder, logger and token issuer. */
async function composeCognitoLocal(dbDir: string, tokenConfig: TokenConfig, logger: Logger): Promise<RequestListener> {
  const cognitoLogger = logger as unknown as CognitoLocalLogger;
  const ctx = { logger: cognitoLogger };
  const config: Config = {
    LambdaClient: {},
    TriggerFunctions: {},
    // cognito-local's stock default: sign-in by email. SignUp reads it from here rather than from the pool.
    UserPoolDefaults: { UsernameAttributes: ['email'] },
    TokenConfig: tokenConfig,
    ServerConfig: { hostname: HOST, port: 0, development: false, https: false },
  };
  const clock = new DateClock();
  const dataStoreFactory = new StormDBDataStoreFactory(dbDir);
  const cognito = await new CognitoServiceFactoryImpl(
    dbDir,
    dataStoreFactory,
    new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  ).create(ctx, config.UserPoolDefaults);
  const triggers = new TriggersService(clock, cognito, new LambdaService(config.TriggerFunctions, noLambda), new CryptoService(config.KMSConfig));
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

/** No Lambda triggers are configured, so cognito-local never calls this; it only needs an object. */
const noLambda = {
  invoke: () => {
    throw new LocalCloudError('cognito-local tried to invoke a Lambda trigger, but the local cloud configures none.');
  },
} as unknown as LambdaClient;

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

function cognitoLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) {
    return pino({ level: 'silent' });
  }
  const level = logger.levelVal >= (logger.levels.values.warn ?? 40) ? logger.level : 'warn';
  return logger.child({ service: 'cognito-local' }, { level });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(new LocalCloudError(`cognito-local did not stop cleanly: ${error.message}`, { cause: error })) : resolve()));
    // The SDK keeps connections alive; close() alone would wait for them to time out.
    server.closeAllConnections();
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
