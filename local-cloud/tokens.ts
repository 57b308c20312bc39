import { randomBytes } from 'node:crypto';

import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';

import { LocalCloudConflictError, LocalCloudServiceError, LocalCloudValidationError } from './errors.js';
import { checkedEndpoint, cognitoCall, isErrorNamed, serviceError, withCognitoClient, type CognitoEndpoint } from './private/cognito-api.js';
import { KIT_ROLES, TENANT_ID_ATTRIBUTE, TENANT_ROLES, type KitRole, type KitUserPool } from './user-pool.js';

export interface LocalTokenRequest {
  /** The role to act as: the user is put in this group, and the token lists it in `cognito:groups`. */
  readonly role: KitRole;
  /**
   * The tenant (a UUID) the user belongs to; the ID token carries it as `custom:tenant_id`. Required for
   * tenant-admin and tenant-user; platform roles (platform-admin, onboarding) take none.
   * @default - none
   */
  readonly tenantId?: string;
  /**
   * The user's email, which is also their sign-in name.
   * @default - `${role}@${tenantId ?? 'platform'}.local`
   */
  readonly email?: string;
}

export interface LocalToken {
  /** The ID token: `aud` is the kit's client id, and it carries `cognito:groups` and `custom:tenant_id`. */
  readonly idToken: string;
  /** The access token (no `aud`; `client_id` instead, as Cognito's). */
  readonly accessToken: string;
  /** Seconds the ID token is valid for. */
  readonly expiresIn: number;
  /** The Cognito username (`cognito:username`): the pool signs in by email, so this is a generated id, not the email. */
  readonly username: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@"\\]+@[^\s@"\\]+\.[^\s@"\\]+$/;

/**
 * Signs a user of `role` (and of `tenantId`, for the tenant roles) in to the kit's pool and returns their
 * tokens, for trying the API locally. Only the Cognito API is used: the user is found or created (email,
 * `custom:tenant_id`), given a fresh random password, added to the role's group, then signed in with
 * InitiateAuth USER_PASSWORD_AUTH, the way an app signs its users in: so the pool's PostAuthentication
 * trigger fires, as on AWS (cognito-local fires none for AdminInitiateAuth). Calling it again for the same
 * user returns fresh tokens and creates nothing.
 */
export async function issueLocalToken(cognito: CognitoEndpoint, pool: KitUserPool, request: LocalTokenRequest): Promise<LocalToken> {
  const target = checkedEndpoint(cognito, 'issueLocalToken');
  const { role, tenantId, email } = checkedRequest(request);

  return withCognitoClient(target, async (client) => {
    const username = await findOrCreateUser(target, client, pool, email, tenantId);
    const password = generatePassword();
    await cognitoCall(target, 'AdminSetUserPassword', () =>
      client.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.userPoolId, Username: email, Password: password, Permanent: true })),
    );
    try {
      await client.send(new AdminAddUserToGroupCommand({ UserPoolId: pool.userPoolId, Username: email, GroupName: role }));
    } catch (error) {
      if (isErrorNamed(error, 'ResourceNotFoundException') || isErrorNamed(error, 'GroupNotFoundException')) {
        throw new LocalCloudValidationError(
          `issueLocalToken: pool ${pool.userPoolId} has no group '${role}'. Pass the pool that ensureKitUserPool() returned; it creates one group per role.`,
          { cause: error },
        );
      }
      throw serviceError(target, 'AdminAddUserToGroup', error);
    }
    const auth = await cognitoCall(target, 'InitiateAuth', () =>
      client.send(
        new InitiateAuthCommand({
          ClientId: pool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      ),
    );
    const result = auth.AuthenticationResult;
    if (result?.IdToken === undefined || result.AccessToken === undefined) {
      throw new LocalCloudServiceError(
        `Cognito InitiateAuth for ${email} answered ${auth.ChallengeName ? `with the challenge ${auth.ChallengeName}` : 'without tokens'} instead of signing in. Check the pool's MFA setting (the kit's pool has MFA off).`,
      );
    }
    return { idToken: result.IdToken, accessToken: result.AccessToken, expiresIn: result.ExpiresIn ?? lifetimeOf(result.IdToken), username };
  });
}

interface CheckedRequest {
  readonly role: KitRole;
  readonly tenantId: string | undefined;
  readonly email: string;
}

function checkedRequest(request: LocalTokenRequest): CheckedRequest {
  const role: unknown = request.role;
  if (typeof role !== 'string' || !(KIT_ROLES as readonly string[]).includes(role)) {
    throw new LocalCloudValidationError(`issueLocalToken: unknown role ${JSON.stringify(role)}. Use one of: ${KIT_ROLES.join(', ')}.`);
  }
  const kitRole = role as KitRole;
  const isTenantRole = TENANT_ROLES.includes(kitRole);

  let tenantId: string | undefined;
  if (request.tenantId !== undefined) {
    if (!isTenantRole) {
      throw new LocalCloudValidationError(
        `issueLocalToken: role '${kitRole}' acts on the whole platform and belongs to no tenant, but tenantId ${JSON.stringify(request.tenantId)} was given. Leave tenantId out, or ask for ${TENANT_ROLES.join(' or ')}.`,
      );
    }
    if (typeof request.tenantId !== 'string' || !UUID.test(request.tenantId)) {
      throw new LocalCloudValidationError(
        `issueLocalToken: tenantId must be a UUID such as 3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60, received ${JSON.stringify(request.tenantId)}. Pass the id the Tenant Manager gave the tenant.`,
      );
    }
    tenantId = request.tenantId.toLowerCase();
  } else if (isTenantRole) {
    throw new LocalCloudValidationError(
      `issueLocalToken: role '${kitRole}' acts inside one tenant, so tenantId is required, but none was given. Pass the tenant's id (a UUID) as tenantId.`,
    );
  }

  const email = request.email ?? `${kitRole}@${tenantId ?? 'platform'}.local`;
  if (typeof email !== 'string' || !EMAIL.test(email)) {
    throw new LocalCloudValidationError(
      `issueLocalToken: email must look like name@domain.tld, received ${JSON.stringify(email)}. Fix it, or leave email out for ${kitRole}@${tenantId ?? 'platform'}.local.`,
    );
  }
  return { role: kitRole, tenantId, email };
}

/** Returns the Cognito username of the user signing in with `email`, creating the user when absent. */
async function findOrCreateUser(
  cognito: CognitoEndpoint,
  client: CognitoIdentityProviderClient,
  pool: KitUserPool,
  email: string,
  tenantId: string | undefined,
): Promise<string> {
  // ListUsers rather than AdminGetUser: an absent user is then an empty list, not an error that
  // cognito-local would log as a warning on every first call.
  const getUser = async (): Promise<UserType | undefined> => {
    const found = await cognitoCall(cognito, 'ListUsers', () =>
      client.send(new ListUsersCommand({ UserPoolId: pool.userPoolId, Filter: `email = "${email}"`, Limit: 2 })),
    );
    const users = found.Users ?? [];
    if (users.length > 1) {
      throw new LocalCloudConflictError(
        `issueLocalToken: ${users.length} users of pool ${pool.userPoolId} have the email ${email}, so which one to sign in is ambiguous. Delete the extra ones, or pass another email.`,
      );
    }
    return users[0];
  };

  let user = await getUser();
  if (user === undefined) {
    const attributes: AttributeType[] = [
      { Name: 'email', Value: email },
      { Name: 'email_verified', Value: 'true' },
      ...(tenantId === undefined ? [] : [{ Name: TENANT_ID_ATTRIBUTE, Value: tenantId }]),
    ];
    try {
      const created = await client.send(
        new AdminCreateUserCommand({ UserPoolId: pool.userPoolId, Username: email, UserAttributes: attributes, MessageAction: 'SUPPRESS' }),
      );
      return requireUsername(created.User?.Username, 'AdminCreateUser');
    } catch (error) {
      if (!isErrorNamed(error, 'UsernameExistsException')) {
        throw serviceError(cognito, 'AdminCreateUser', error);
      }
      // Created meanwhile by a concurrent call: check it like any existing user.
      user = await getUser();
      if (user === undefined) {
        throw serviceError(cognito, 'AdminCreateUser', error);
      }
    }
  }

  const existingTenant = user.Attributes?.find((attribute) => attribute.Name === TENANT_ID_ATTRIBUTE)?.Value;
  if (existingTenant !== tenantId) {
    throw new LocalCloudConflictError(
      `issueLocalToken: user ${email} already exists in pool ${pool.userPoolId} with ${existingTenant ? `tenant ${existingTenant}` : 'no tenant'}, not ${tenantId ? `tenant ${tenantId}` : 'no tenant'}, and a user's tenant never changes. Ask with that user's tenant, or with another email.`,
    );
  }
  return requireUsername(user.Username, 'ListUsers');
}

function requireUsername(username: string | undefined, operation: string): string {
  if (username === undefined || username === '') {
    throw new LocalCloudServiceError(`Cognito ${operation} answered without a Username; the server does not behave like Cognito.`);
  }
  return username;
}

/** A password meeting the pool's policy (upper, lower, digit, symbol, 12+), never stored: each call sets a new one. */
function generatePassword(): string {
  return `${randomBytes(24).toString('base64url')}Aa1!`;
}

/** cognito-local leaves ExpiresIn out: read the lifetime from the token itself. */
function lifetimeOf(idToken: string): number {
  const { exp, iat } = decodeJwt(idToken);
  if (exp === undefined || iat === undefined) {
    throw new LocalCloudServiceError('Cognito issued an ID token without exp or iat; the server does not behave like Cognito.');
  }
  return exp - iat;
}
