import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  GetGroupCommand,
  ListUsersInGroupCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';

import type { IdentityProvider, TenantIdentity, TenantRef } from '../../providers.js';
import { ProviderConfigurationError, ProviderConflictError } from './errors.js';
import { errorMessage, fromSdkError, isNamed } from './sdk-errors.js';

/** The user attribute holding a user's tenant (the kit's user pool defines it, immutable, 36 characters). */
export const TENANT_ID_ATTRIBUTE = 'custom:tenant_id';

export interface CognitoIdentityProviderProps {
  readonly client: CognitoIdentityProviderClient;
  /** The kit's user pool: sign-in by email, with the custom attribute `tenant_id` (`ensureKitUserPool` makes such a pool). */
  readonly userPoolId: string;
  /**
   * Prefix of the tenant's group name; the tenant's name follows it.
   * @default 'tenant-'
   */
  readonly groupPrefix?: string;
  /**
   * The kit's role group the tenant admin also joins, so that its tokens carry the tenant-admin role in `cognito:groups`.
   * @default 'tenant-admin'
   */
  readonly adminRoleGroup?: string;
  /**
   * Whether Cognito emails the new admin an invitation with a temporary password (else the invitation is suppressed).
   * @default true
   */
  readonly inviteAdmin?: boolean;
}

const SERVICE = 'Cognito';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TENANT_NAME = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
const EMAIL = /^[^\s@"\\]+@[^\s@"\\]+\.[^\s@"\\]+$/;
const GROUP_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

/**
 * Tenant identities in a Cognito user pool: a group per tenant and its admin user, who carries
 * `custom:tenant_id` and belongs to the tenant's group and to the tenant-admin role group.
 */
export class CognitoIdentityProvider implements IdentityProvider {
  private readonly client: CognitoIdentityProviderClient;
  private readonly userPoolId: string;
  private readonly groupPrefix: string;
  private readonly adminRoleGroup: string;
  private readonly inviteAdmin: boolean;

  constructor(props: CognitoIdentityProviderProps) {
    if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(props.userPoolId)) {
      throw new ProviderConfigurationError(
        `CognitoIdentityProvider: userPoolId must look like us-east-1_AbC123, received ${JSON.stringify(props.userPoolId)}. Pass the id ensureKitUserPool() or your stack returned.`,
      );
    }
    this.client = props.client;
    this.userPoolId = props.userPoolId;
    this.groupPrefix = props.groupPrefix ?? 'tenant-';
    this.adminRoleGroup = props.adminRoleGroup ?? 'tenant-admin';
    this.inviteAdmin = props.inviteAdmin ?? true;
    for (const [name, group] of [
      ['groupPrefix', `${this.groupPrefix}x`],
      ['adminRoleGroup', this.adminRoleGroup],
    ] as const) {
      if (!GROUP_NAME.test(group)) {
        throw new ProviderConfigurationError(`CognitoIdentityProvider: ${name} must make a Cognito group name (1 to 128 visible characters), received ${JSON.stringify(group)}.`);
      }
    }
  }

  /** The tenant's group name. */
  groupName(tenant: TenantRef): string {
    return `${this.groupPrefix}${tenant.tenantName}`;
  }

  async ensureTenantIdentity(tenant: TenantRef, admin: { readonly email: string }): Promise<TenantIdentity> {
    checkTenant(tenant);
    if (!EMAIL.test(admin.email)) {
      throw new ProviderConfigurationError(`ensureTenantIdentity: the admin email must look like name@domain.tld, received ${JSON.stringify(admin.email)}.`);
    }
    const groupName = this.groupName(tenant);
    await this.ensureGroup(tenant, groupName);
    const adminUsername = await this.ensureAdmin(tenant, admin.email);
    for (const group of [groupName, this.adminRoleGroup]) {
      // Adding a member twice is no error in Cognito: the call is idempotent as it is.
      try {
        await this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, Username: adminUsername, GroupName: group }));
      } catch (error) {
        if (group === this.adminRoleGroup && this.isMissingGroup(error)) {
          throw new ProviderConfigurationError(
            `Cognito pool ${this.userPoolId} has no group '${group}' for the tenant admin role. Create the kit's role groups (ensureKitUserPool does), or set adminRoleGroup.`,
            { cause: error },
          );
        }
        throw this.error('AdminAddUserToGroup', error);
      }
    }
    return { groupName, adminUsername };
  }

  async tenantIdentityExists(tenant: TenantRef): Promise<boolean> {
    checkTenant(tenant);
    return (await this.getGroupDescription(this.groupName(tenant))) !== undefined;
  }

  async removeTenantIdentity(tenant: TenantRef): Promise<void> {
    checkTenant(tenant);
    const groupName = this.groupName(tenant);
    const members = await this.listMembers(groupName);
    if (members === undefined) {
      return; // No group: removed already.
    }
    // Only the tenant's own users: a platform user added to the group only loses the membership, with the group.
    for (const user of members.filter((member) => attribute(member.Attributes, TENANT_ID_ATTRIBUTE) === tenant.tenantId)) {
      try {
        await this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: user.Username }));
      } catch (error) {
        if (!isNamed(error, 'UserNotFoundException')) {
          throw this.error('AdminDeleteUser', error);
        }
      }
    }
    try {
      await this.client.send(new DeleteGroupCommand({ UserPoolId: this.userPoolId, GroupName: groupName }));
    } catch (error) {
      if (!this.isMissingGroup(error)) {
        throw this.error('DeleteGroup', error);
      }
    }
  }

  private async ensureGroup(tenant: TenantRef, groupName: string): Promise<void> {
    // Look first: CreateGroup on an existing group is an error in Cognito (and in cognito-local a reset of its members).
    const description = await this.getGroupDescription(groupName);
    if (description !== undefined) {
      if (!description.includes(tenant.tenantId)) {
        throw new ProviderConflictError(
          `Cognito group ${groupName} of pool ${this.userPoolId} exists but is not tenant ${tenant.tenantId}'s (description ${JSON.stringify(description)}). Remove the other tenant's identity first.`,
        );
      }
      return;
    }
    try {
      await this.client.send(
        new CreateGroupCommand({ UserPoolId: this.userPoolId, GroupName: groupName, Description: `Users of tenant ${tenant.tenantName} (${tenant.tenantId}).` }),
      );
    } catch (error) {
      if (!isNamed(error, 'GroupExistsException')) {
        throw this.error('CreateGroup', error);
      }
      // Created meanwhile by a concurrent attempt for the same tenant.
    }
  }

  /** Creates the admin user, or finds the one an earlier attempt created; returns its Cognito username. */
  private async ensureAdmin(tenant: TenantRef, email: string): Promise<string> {
    try {
      const created = await this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: email,
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
            { Name: TENANT_ID_ATTRIBUTE, Value: tenant.tenantId },
          ],
          ...(this.inviteAdmin ? { DesiredDeliveryMediums: ['EMAIL'] } : { MessageAction: 'SUPPRESS' }),
        }),
      );
      return required(created.User?.Username, 'AdminCreateUser', 'User.Username');
    } catch (error) {
      if (!isNamed(error, 'UsernameExistsException')) {
        throw this.error('AdminCreateUser', error);
      }
    }
    const existing = await this.send('AdminGetUser', () => this.client.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: email })));
    const existingTenant = attribute(existing.UserAttributes, TENANT_ID_ATTRIBUTE);
    if (existingTenant !== tenant.tenantId) {
      throw new ProviderConflictError(
        `The Cognito user ${email} already exists in pool ${this.userPoolId} with ${existingTenant === undefined ? 'no tenant' : `tenant ${existingTenant}`}, not tenant ${tenant.tenantId}, and a user's tenant never changes. Give tenant ${tenant.tenantName} another admin email.`,
      );
    }
    return required(existing.Username, 'AdminGetUser', 'Username');
  }

  /** The group's description (empty when it has none), or undefined when there is no such group. */
  private async getGroupDescription(groupName: string): Promise<string | undefined> {
    try {
      const { Group: group } = await this.client.send(new GetGroupCommand({ UserPoolId: this.userPoolId, GroupName: groupName }));
      return group?.Description ?? '';
    } catch (error) {
      if (this.isMissingGroup(error)) {
        return undefined;
      }
      throw this.error('GetGroup', error);
    }
  }

  /** Every member of the group, or undefined when the group does not exist. */
  private async listMembers(groupName: string): Promise<UserType[] | undefined> {
    const members: UserType[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListUsersInGroupCommand({ UserPoolId: this.userPoolId, GroupName: groupName, Limit: 60, ...(nextToken === undefined ? {} : { NextToken: nextToken }) }),
        );
        members.push(...(page.Users ?? []));
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
    } catch (error) {
      if (this.isMissingGroup(error)) {
        return undefined;
      }
      throw this.error('ListUsersInGroup', error);
    }
    return members;
  }

  /** A missing group, told apart from a missing user pool (both are ResourceNotFoundException). */
  private isMissingGroup(error: unknown): boolean {
    return isNamed(error, 'ResourceNotFoundException') && !/user ?pool/i.test(errorMessage(error));
  }

  private error(operation: string, error: unknown): Error {
    if (isNamed(error, 'ResourceNotFoundException')) {
      return new ProviderConfigurationError(`Cognito ${operation}: ${errorMessage(error)}. Check userPoolId ${this.userPoolId}.`, { cause: error });
    }
    return fromSdkError(SERVICE, operation, error);
  }

  private async send<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.error(operation, error);
    }
  }
}

function attribute(attributes: readonly AttributeType[] | undefined, name: string): string | undefined {
  return attributes?.find((candidate) => candidate.Name === name)?.Value;
}

function required(value: string | undefined, operation: string, field: string): string {
  if (value === undefined || value === '') {
    throw new ProviderConfigurationError(`Cognito ${operation} answered without ${field}; the endpoint does not behave like Cognito.`);
  }
  return value;
}

function checkTenant(tenant: TenantRef): void {
  if (!UUID.test(tenant.tenantId)) {
    throw new ProviderConfigurationError(`The tenant id must be a lowercase UUID (the custom:tenant_id attribute holds exactly 36 characters), received ${JSON.stringify(tenant.tenantId)}.`);
  }
  if (!TENANT_NAME.test(tenant.tenantName)) {
    throw new ProviderConfigurationError(`The tenant name must be 3 to 40 of a-z, 0-9 and -, starting with a letter, received ${JSON.stringify(tenant.tenantName)}.`);
  }
}
