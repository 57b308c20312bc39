import {
  AddCustomAttributesCommand,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UpdateUserPoolClientCommand,
  type CognitoIdentityProviderClient,
  type ExplicitAuthFlowsType,
  type SchemaAttributeType,
  type UserPoolClientDescription,
  type UpdateUserPoolClientCommandInput,
  type UserPoolDescriptionType,
} from '@aws-sdk/client-cognito-identity-provider';

import { LocalCloudConflictError, LocalCloudServiceError, LocalCloudValidationError } from './errors.js';
import { checkedEndpoint, cognitoCall, withCognitoClient, type CognitoEndpoint } from './private/cognito-api.js';

/** The roles of the kit, one Cognito group each; tokens list the user's in `cognito:groups`. */
export const KIT_ROLES = ['platform-admin', 'onboarding', 'tenant-admin', 'tenant-user'] as const;
export type KitRole = (typeof KIT_ROLES)[number];

/** Roles that act inside one tenant: their users carry `custom:tenant_id`. The others act on the platform. */
export const TENANT_ROLES: readonly KitRole[] = ['tenant-admin', 'tenant-user'];

/** The custom attribute holding a user's tenant; tokens carry it as `custom:tenant_id`. */
export const TENANT_ID_ATTRIBUTE = 'custom:tenant_id';

/** Name of the app client the kit's API accepts tokens of (the ID token's `aud`). */
export const KIT_APP_CLIENT_NAME = 'saas-tenancy-kit-api';

const DEFAULT_POOL_NAME = 'saas-tenancy-kit';

const ROLE_GROUPS: Record<KitRole, { readonly precedence: number; readonly description: string }> = {
  'platform-admin': { precedence: 0, description: 'Operates the whole platform: every tenant, tier and plan.' },
  onboarding: { precedence: 1, description: "The operator's onboarding flow: registers tenants and follows their provisioning." },
  'tenant-admin': { precedence: 2, description: "Administers one tenant (custom:tenant_id): its users, jobs and data." },
  'tenant-user': { precedence: 3, description: 'Works inside one tenant (custom:tenant_id): submits jobs, reads its data.' },
};

const AUTH_FLOWS: readonly ExplicitAuthFlowsType[] = ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];

/** The app client's settings; token lifetimes are Cognito's defaults (an hour; refresh tokens 30 days). */
function appClientSettings(): Omit<UpdateUserPoolClientCommandInput, 'UserPoolId' | 'ClientId'> & { ClientName: string } {
  return {
    ClientName: KIT_APP_CLIENT_NAME,
    ExplicitAuthFlows: [...AUTH_FLOWS],
    IdTokenValidity: 60,
    AccessTokenValidity: 60,
    RefreshTokenValidity: 30,
    TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'days' },
    PreventUserExistenceErrors: 'ENABLED',
    EnableTokenRevocation: true,
  };
}

const TENANT_ID_SCHEMA: SchemaAttributeType = {
  Name: 'tenant_id',
  AttributeDataType: 'String',
  // A user belongs to one tenant for life: set at creation, never changed.
  Mutable: false,
  Required: false,
  DeveloperOnlyAttribute: false,
  StringAttributeConstraints: { MinLength: '36', MaxLength: '36' },
};

/** The kit's user pool, as the API needs it to verify tokens. */
export interface KitUserPool {
  readonly userPoolId: string;
  /** The app client whose tokens the kit accepts: the ID token's `aud`. */
  readonly clientId: string;
  /** The `iss` of the pool's tokens: `${endpoint}/${userPoolId}`. */
  readonly issuer: string;
  /** `${endpoint}/${userPoolId}/.well-known/jwks.json`. */
  readonly jwksUrl: string;
}

export interface EnsureKitUserPoolOptions {
  /**
   * Name of the user pool to find or create.
   * @default 'saas-tenancy-kit'
   */
  readonly poolName?: string;
}

/**
 * Makes the kit's user pool exist, through the Cognito API, and returns its ids. Idempotent: finds the pool
 * by name (or creates it, with email sign-in and the immutable custom attribute `tenant_id`), finds or creates
 * the app client {@link KIT_APP_CLIENT_NAME} allowing ADMIN_USER_PASSWORD_AUTH and USER_PASSWORD_AUTH, and one
 * group per {@link KIT_ROLES} entry. Whatever of that is missing from an existing pool is added.
 */
export async function ensureKitUserPool(cognito: CognitoEndpoint, options: EnsureKitUserPoolOptions = {}): Promise<KitUserPool> {
  const target = checkedEndpoint(cognito, 'ensureKitUserPool');
  const poolName = options.poolName ?? DEFAULT_POOL_NAME;
  if (!/^[\w\s+=,.@-]{1,128}$/u.test(poolName)) {
    throw new LocalCloudValidationError(
      `ensureKitUserPool: poolName must be 1 to 128 letters, digits, spaces or any of _+=,.@-, received ${JSON.stringify(poolName)}. Leave it out for '${DEFAULT_POOL_NAME}'.`,
    );
  }

  return withCognitoClient(target, async (client) => {
    const userPoolId = await findOrCreatePool(target, client, poolName);
    const clientId = await findOrCreateAppClient(target, client, userPoolId);
    await ensureGroups(target, client, userPoolId);
    const issuer = `${target.endpoint}/${userPoolId}`;
    return { userPoolId, clientId, issuer, jwksUrl: `${issuer}/.well-known/jwks.json` };
  });
}

async function findOrCreatePool(cognito: CognitoEndpoint, client: CognitoIdentityProviderClient, poolName: string): Promise<string> {
  const pools: UserPoolDescriptionType[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cognitoCall(cognito, 'ListUserPools', () => client.send(new ListUserPoolsCommand({ MaxResults: 60, NextToken: nextToken })));
    pools.push(...(page.UserPools ?? []));
    nextToken = page.NextToken;
  } while (nextToken);

  const matching = pools.filter((pool) => pool.Name === poolName);
  if (matching.length > 1) {
    throw new LocalCloudConflictError(
      `ensureKitUserPool: ${matching.length} user pools are named '${poolName}' (${matching.map((pool) => pool.Id).join(', ')}), so which one is the kit's is ambiguous. Delete the extra ones, or pass another poolName.`,
    );
  }
  const existingId = matching[0]?.Id;
  if (existingId !== undefined) {
    await ensureTenantAttribute(cognito, client, existingId);
    return existingId;
  }

  const created = await cognitoCall(cognito, 'CreateUserPool', () =>
    client.send(
      new CreateUserPoolCommand({
        PoolName: poolName,
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: 'OFF',
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireUppercase: true,
            RequireLowercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
            TemporaryPasswordValidityDays: 7,
          },
        },
        Schema: [TENANT_ID_SCHEMA],
      }),
    ),
  );
  return requireId(created.UserPool?.Id, 'CreateUserPool', 'UserPool.Id');
}

async function ensureTenantAttribute(cognito: CognitoEndpoint, client: CognitoIdentityProviderClient, userPoolId: string): Promise<void> {
  const described = await cognitoCall(cognito, 'DescribeUserPool', () => client.send(new DescribeUserPoolCommand({ UserPoolId: userPoolId })));
  const hasTenantId = (described.UserPool?.SchemaAttributes ?? []).some((attribute) => attribute.Name === TENANT_ID_ATTRIBUTE);
  if (!hasTenantId) {
    await cognitoCall(cognito, 'AddCustomAttributes', () =>
      client.send(new AddCustomAttributesCommand({ UserPoolId: userPoolId, CustomAttributes: [TENANT_ID_SCHEMA] })),
    );
  }
}

async function findOrCreateAppClient(cognito: CognitoEndpoint, client: CognitoIdentityProviderClient, userPoolId: string): Promise<string> {
  const clients: UserPoolClientDescription[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cognitoCall(cognito, 'ListUserPoolClients', () =>
      client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: nextToken })),
    );
    clients.push(...(page.UserPoolClients ?? []));
    nextToken = page.NextToken;
  } while (nextToken);

  const existingId = clients.find((appClient) => appClient.ClientName === KIT_APP_CLIENT_NAME)?.ClientId;
  if (existingId === undefined) {
    const created = await cognitoCall(cognito, 'CreateUserPoolClient', () =>
      client.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, GenerateSecret: false, ...appClientSettings() })),
    );
    return requireId(created.UserPoolClient?.ClientId, 'CreateUserPoolClient', 'UserPoolClient.ClientId');
  }

  const described = await cognitoCall(cognito, 'DescribeUserPoolClient', () =>
    client.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: existingId })),
  );
  const flows = described.UserPoolClient?.ExplicitAuthFlows ?? [];
  if (!AUTH_FLOWS.every((flow) => flows.includes(flow))) {
    await cognitoCall(cognito, 'UpdateUserPoolClient', () =>
      client.send(new UpdateUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: existingId, ...appClientSettings() })),
    );
  }
  return existingId;
}

async function ensureGroups(cognito: CognitoEndpoint, client: CognitoIdentityProviderClient, userPoolId: string): Promise<void> {
  const existing = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await cognitoCall(cognito, 'ListGroups', () => client.send(new ListGroupsCommand({ UserPoolId: userPoolId, Limit: 60, NextToken: nextToken })));
    for (const group of page.Groups ?? []) {
      if (group.GroupName !== undefined) {
        existing.add(group.GroupName);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);

  // One at a time: cognito-local rewrites the pool's whole data file on each change.
  for (const role of KIT_ROLES.filter((name) => !existing.has(name))) {
    const { precedence, description } = ROLE_GROUPS[role];
    await cognitoCall(cognito, 'CreateGroup', () =>
      client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: role, Precedence: precedence, Description: description })),
    );
  }
}

function requireId(id: string | undefined, operation: string, field: string): string {
  if (id === undefined || id === '') {
    throw new LocalCloudServiceError(`Cognito ${operation} answered without ${field}; the server does not behave like Cognito.`);
  }
  return id;
}
