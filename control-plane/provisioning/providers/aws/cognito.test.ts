import { randomUUID } from 'node:crypto';

import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  DeleteGroupCommand,
  GetGroupCommand,
  GroupExistsException,
  ListUsersCommand,
  ListUsersInGroupCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureKitUserPool, localCognitoClientConfig, startLocalCognito, type KitUserPool, type LocalCognito } from '../../../../local-cloud/index.js';
import type { TenantRef } from '../../providers.js';
import { CognitoIdentityProvider, ProviderConfigurationError, ProviderConflictError, ProviderThrottledError, TENANT_ID_ATTRIBUTE } from './index.js';

function tenant(name: string): TenantRef {
  return { tenantId: randomUUID(), tenantName: name, tier: 'pool' };
}

describe('CognitoIdentityProvider against cognito-local and the kit user pool', () => {
  let cognito: LocalCognito;
  let pool: KitUserPool;
  let client: CognitoIdentityProviderClient;
  let provider: CognitoIdentityProvider;

  beforeAll(async () => {
    cognito = await startLocalCognito();
    pool = await ensureKitUserPool(cognito);
    client = new CognitoIdentityProviderClient(localCognitoClientConfig(cognito));
    provider = new CognitoIdentityProvider({ client, userPoolId: pool.userPoolId, inviteAdmin: false });
  });

  afterAll(async () => {
    client?.destroy();
    await cognito?.stop();
  });

  async function groupsOf(username: string): Promise<string[]> {
    const { Groups: groups } = await client.send(new AdminListGroupsForUserCommand({ UserPoolId: pool.userPoolId, Username: username }));
    return (groups ?? []).map((group) => group.GroupName ?? '').sort();
  }

  it('creates the tenant group and its admin carrying custom:tenant_id, in the tenant group and the tenant-admin role group', async () => {
    const acme = tenant('acme');

    const identity = await provider.ensureTenantIdentity(acme, { email: 'ops@acme.example' });

    expect(identity.groupName).toBe('tenant-acme');
    // The pool signs in by email, so the username is a generated id, not the email.
    expect(identity.adminUsername).not.toBe('ops@acme.example');
    const user = await client.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: identity.adminUsername }));
    const attributes = Object.fromEntries((user.UserAttributes ?? []).map((attribute) => [attribute.Name, attribute.Value]));
    expect(attributes).toMatchObject({ email: 'ops@acme.example', email_verified: 'true', [TENANT_ID_ATTRIBUTE]: acme.tenantId });
    expect(await groupsOf(identity.adminUsername)).toEqual(['tenant-acme', 'tenant-admin']);
    const group = await client.send(new GetGroupCommand({ UserPoolId: pool.userPoolId, GroupName: 'tenant-acme' }));
    expect(group.Group?.Description).toBe(`Users of tenant acme (${acme.tenantId}).`);
  });

  it('a second call finds the same group and user and makes no copy', async () => {
    const globex = tenant('globex');
    const first = await provider.ensureTenantIdentity(globex, { email: 'admin@globex.example' });
    const second = await provider.ensureTenantIdentity(globex, { email: 'admin@globex.example' });

    expect(second).toEqual(first);
    const users = await client.send(new ListUsersCommand({ UserPoolId: pool.userPoolId, Filter: 'email = "admin@globex.example"' }));
    expect(users.Users?.map((user) => user.Username)).toEqual([first.adminUsername]);
    expect(await groupsOf(first.adminUsername)).toEqual(['tenant-admin', 'tenant-globex']);
  });

  it("refuses an admin email that belongs to another tenant's user", async () => {
    await provider.ensureTenantIdentity(tenant('initech'), { email: 'shared@example.com' });

    const attempt = provider.ensureTenantIdentity(tenant('umbrella'), { email: 'shared@example.com' });
    await expect(attempt).rejects.toThrow(ProviderConflictError);
    await expect(attempt).rejects.toMatchObject({ retryable: false });
    await expect(attempt).rejects.toThrow(/already exists in pool .* with tenant [0-9a-f-]{36}, not tenant/);
  });

  it("refuses a group that another tenant of the same name left behind", async () => {
    await provider.ensureTenantIdentity(tenant('hooli'), { email: 'a@hooli.example' });
    await expect(provider.ensureTenantIdentity(tenant('hooli'), { email: 'b@hooli.example' })).rejects.toThrow(/group tenant-hooli .* is not tenant/);
  });

  it('tenantIdentityExists follows the group', async () => {
    const stark = tenant('stark');
    await expect(provider.tenantIdentityExists(stark)).resolves.toBe(false);
    await provider.ensureTenantIdentity(stark, { email: 'tony@stark.example' });
    await expect(provider.tenantIdentityExists(stark)).resolves.toBe(true);
  });

  it("removeTenantIdentity deletes the tenant's users and group, keeps a platform user who was in it, and a second call is a no-op", async () => {
    const wayne = tenant('wayne');
    const identity = await provider.ensureTenantIdentity(wayne, { email: 'bruce@wayne.example' });
    const platform = await client.send(
      new AdminCreateUserCommand({ UserPoolId: pool.userPoolId, Username: 'operator@platform.example', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'operator@platform.example' }] }),
    );
    const operator = platform.User?.Username ?? '';
    await client.send(new AdminAddUserToGroupCommand({ UserPoolId: pool.userPoolId, Username: operator, GroupName: 'tenant-wayne' }));

    await provider.removeTenantIdentity(wayne);

    await expect(provider.tenantIdentityExists(wayne)).resolves.toBe(false);
    await expect(client.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: identity.adminUsername }))).rejects.toThrow(UserNotFoundException);
    const kept = await client.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: operator }));
    expect(kept.Username).toBe(operator);

    await expect(provider.removeTenantIdentity(wayne)).resolves.toBeUndefined();
    // The same tenant can be provisioned again afterwards.
    await expect(provider.ensureTenantIdentity(wayne, { email: 'bruce@wayne.example' })).resolves.toMatchObject({ groupName: 'tenant-wayne' });
  });

  it('a user pool that does not exist is a configuration error, not a missing group', async () => {
    const wrongPool = new CognitoIdentityProvider({ client, userPoolId: 'local_doesnotexist' });
    const attempt = wrongPool.tenantIdentityExists(tenant('acme'));
    await expect(attempt).rejects.toThrow(ProviderConfigurationError);
    await expect(attempt).rejects.toThrow(/Check userPoolId local_doesnotexist/);
  });

  it('a pool without the tenant-admin role group is a configuration error', async () => {
    const other = new CognitoIdentityProvider({ client, userPoolId: pool.userPoolId, adminRoleGroup: 'no-such-role', inviteAdmin: false });
    await expect(other.ensureTenantIdentity(tenant('soylent'), { email: 'x@soylent.example' })).rejects.toThrow(/has no group 'no-such-role'/);
  });

  it('rejects a tenant id that is not a UUID before calling Cognito', async () => {
    await expect(provider.ensureTenantIdentity({ tenantId: 'acme', tenantName: 'acme', tier: 'pool' }, { email: 'a@b.example' })).rejects.toThrow(
      /tenant id must be a lowercase UUID.*received "acme"/,
    );
  });
});

describe('CognitoIdentityProvider requests and the errors cognito-local cannot produce', () => {
  // Made in beforeAll, not when the file is collected: the mock replaces send() of every client, the local suite's too.
  let cognito: AwsClientStub<CognitoIdentityProviderClient>;
  const client = new CognitoIdentityProviderClient({ region: 'eu-central-1' });
  const userPoolId = 'eu-central-1_AbC123';
  const provider = new CognitoIdentityProvider({ client, userPoolId });
  const acme: TenantRef = { tenantId: '3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60', tenantName: 'acme', tier: 'bridge' };
  const meta = { $metadata: {} };

  beforeAll(() => {
    cognito = mockClient(CognitoIdentityProviderClient);
  });

  afterAll(() => {
    cognito.restore();
    client.destroy();
  });

  it('sends exact requests, inviting the admin by email by default', async () => {
    cognito.reset();
    cognito.on(GetGroupCommand).rejects(new ResourceNotFoundException({ ...meta, message: 'Group not found.' }));
    cognito.on(CreateGroupCommand).resolves({});
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'c3d4e5f6-0000-4000-8000-000000000001' } });
    cognito.on(AdminAddUserToGroupCommand).resolves({});

    await expect(provider.ensureTenantIdentity(acme, { email: 'ops@acme.example' })).resolves.toEqual({
      groupName: 'tenant-acme',
      adminUsername: 'c3d4e5f6-0000-4000-8000-000000000001',
    });

    expect(cognito.commandCalls(GetGroupCommand)[0]?.args[0].input).toEqual({ UserPoolId: userPoolId, GroupName: 'tenant-acme' });
    expect(cognito.commandCalls(CreateGroupCommand)[0]?.args[0].input).toEqual({
      UserPoolId: userPoolId,
      GroupName: 'tenant-acme',
      Description: `Users of tenant acme (${acme.tenantId}).`,
    });
    expect(cognito.commandCalls(AdminCreateUserCommand)[0]?.args[0].input).toEqual({
      UserPoolId: userPoolId,
      Username: 'ops@acme.example',
      UserAttributes: [
        { Name: 'email', Value: 'ops@acme.example' },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'custom:tenant_id', Value: acme.tenantId },
      ],
      DesiredDeliveryMediums: ['EMAIL'],
    });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: userPoolId, Username: 'c3d4e5f6-0000-4000-8000-000000000001', GroupName: 'tenant-acme' },
      { UserPoolId: userPoolId, Username: 'c3d4e5f6-0000-4000-8000-000000000001', GroupName: 'tenant-admin' },
    ]);
  });

  it('GroupExistsException from a concurrent attempt reuses the group', async () => {
    cognito.reset();
    cognito.on(GetGroupCommand).rejects(new ResourceNotFoundException({ ...meta, message: 'Group not found.' }));
    cognito.on(CreateGroupCommand).rejects(new GroupExistsException({ ...meta, message: 'A group with the name already exists.' }));
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'u-1' } });
    cognito.on(AdminAddUserToGroupCommand).resolves({});

    await expect(provider.ensureTenantIdentity(acme, { email: 'ops@acme.example' })).resolves.toEqual({ groupName: 'tenant-acme', adminUsername: 'u-1' });
  });

  it('an existing admin of the same tenant is reused, found by AdminGetUser', async () => {
    cognito.reset();
    cognito.on(GetGroupCommand).resolves({ Group: { GroupName: 'tenant-acme', Description: `Users of tenant acme (${acme.tenantId}).` } });
    cognito.on(AdminCreateUserCommand).rejects(new UsernameExistsException({ ...meta, message: 'exists' }));
    cognito.on(AdminGetUserCommand).resolves({ Username: 'u-1', UserAttributes: [{ Name: 'custom:tenant_id', Value: acme.tenantId }] });
    cognito.on(AdminAddUserToGroupCommand).resolves({});

    await expect(provider.ensureTenantIdentity(acme, { email: 'ops@acme.example' })).resolves.toEqual({ groupName: 'tenant-acme', adminUsername: 'u-1' });
    expect(cognito.commandCalls(CreateGroupCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminGetUserCommand)[0]?.args[0].input).toEqual({ UserPoolId: userPoolId, Username: 'ops@acme.example' });
  });

  it('throttling is retryable', async () => {
    cognito.reset();
    cognito.on(GetGroupCommand).rejects(new TooManyRequestsException({ ...meta, message: 'Too many requests' }));
    const attempt = provider.tenantIdentityExists(acme);
    await expect(attempt).rejects.toThrow(ProviderThrottledError);
    await expect(attempt).rejects.toMatchObject({ retryable: true });
  });

  it('removeTenantIdentity pages through the members and tolerates a user or group deleted meanwhile', async () => {
    cognito.reset();
    const member = (username: string, tenantId: string): { Username: string; Attributes: { Name: string; Value: string }[] } => ({
      Username: username,
      Attributes: [{ Name: 'custom:tenant_id', Value: tenantId }],
    });
    cognito
      .on(ListUsersInGroupCommand)
      .resolvesOnce({ Users: [member('u-1', acme.tenantId)], NextToken: 'next' })
      .resolvesOnce({ Users: [member('u-2', acme.tenantId), member('other', randomUUID())] });
    cognito
      .on(AdminDeleteUserCommand)
      .resolvesOnce({})
      .rejectsOnce(new UserNotFoundException({ ...meta, message: 'User does not exist.' }));
    cognito.on(DeleteGroupCommand).rejects(new ResourceNotFoundException({ ...meta, message: 'Group not found.' }));

    await provider.removeTenantIdentity(acme);

    expect(cognito.commandCalls(ListUsersInGroupCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: userPoolId, GroupName: 'tenant-acme', Limit: 60 },
      { UserPoolId: userPoolId, GroupName: 'tenant-acme', Limit: 60, NextToken: 'next' },
    ]);
    expect(cognito.commandCalls(AdminDeleteUserCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: userPoolId, Username: 'u-1' },
      { UserPoolId: userPoolId, Username: 'u-2' },
    ]);
    expect(cognito.commandCalls(DeleteGroupCommand)[0]?.args[0].input).toEqual({ UserPoolId: userPoolId, GroupName: 'tenant-acme' });
  });
});
