import {
  CloseAccountCommand,
  CreateAccountCommand,
  DescribeAccountCommand,
  DescribeCreateAccountStatusCommand,
  ListAccountsCommand,
  ListCreateAccountStatusCommand,
  ListParentsCommand,
  MoveAccountCommand,
  type Account,
  type CreateAccountStatus,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';

import type { AccountProvider, AccountRequest, OperationStatus } from '../../providers.js';
import { ProviderConfigurationError, ProviderConflictError, ProviderLimitExceededError, ProviderNotFoundError, ProviderThrottledError } from './errors.js';
import { call, errorMessage, fromSdkError, isNamed } from './sdk-errors.js';

export interface OrganizationsAccountProviderProps {
  /** A client of the organization's management account (or of a delegated administrator allowed to create accounts). */
  readonly client: OrganizationsClient;
  /** The OU tenant accounts are moved into, such as `ou-ab12-cd34ef56`. */
  readonly tenantsOuId: string;
  /**
   * The role Organizations creates in each new account, trusted by the management account; the
   * CloudFormation deployer assumes it to deploy the tenant's stack.
   * @default 'OrganizationAccountAccessRole'
   */
  readonly roleName?: string;
  /**
   * Tag key carrying the tenant's id on the account (the tenant's name and tier go under `saas-kit:tenant` and `saas-kit:tier`).
   * @default 'saas-kit:tenant-id'
   */
  readonly tenantIdTagKey?: string;
}

const SERVICE = 'Organizations';
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * Tenant accounts through AWS Organizations: CreateAccount, its status, the move into the tenants OU,
 * CloseAccount. Organizations takes no idempotency token, so `startAccountCreation` first looks for an
 * account, or a creation in flight, made by an earlier attempt.
 */
export class OrganizationsAccountProvider implements AccountProvider {
  private readonly client: OrganizationsClient;
  private readonly tenantsOuId: string;
  private readonly roleName: string;
  private readonly tenantIdTagKey: string;

  constructor(props: OrganizationsAccountProviderProps) {
    if (!OU_ID.test(props.tenantsOuId)) {
      throw new ProviderConfigurationError(
        `OrganizationsAccountProvider: tenantsOuId must be an OU id such as ou-ab12-cd34ef56, received ${JSON.stringify(props.tenantsOuId)}. Create the tenants OU and pass its id.`,
      );
    }
    const roleName = props.roleName ?? 'OrganizationAccountAccessRole';
    if (!ROLE_NAME.test(roleName)) {
      throw new ProviderConfigurationError(
        `OrganizationsAccountProvider: roleName must be 1 to 64 letters, digits or +=,.@_-, received ${JSON.stringify(roleName)}. Leave it out for OrganizationAccountAccessRole.`,
      );
    }
    this.client = props.client;
    this.tenantsOuId = props.tenantsOuId;
    this.roleName = roleName;
    this.tenantIdTagKey = props.tenantIdTagKey ?? 'saas-kit:tenant-id';
  }

  async startAccountCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly existingAccountId: string }> {
    checkRequest(request);
    const previous = await this.findPreviousCreation(request);
    if (previous !== undefined) {
      return 'requestId' in previous ? previous : { existingAccountId: usableAccount(previous.accountId, previous.account, request) };
    }

    try {
      const created = await this.client.send(
        new CreateAccountCommand({
          Email: request.email,
          AccountName: request.accountName,
          RoleName: this.roleName,
          IamUserAccessToBilling: 'DENY',
          Tags: [
            { Key: this.tenantIdTagKey, Value: request.tenant.tenantId },
            { Key: 'saas-kit:tenant', Value: request.tenant.tenantName },
            { Key: 'saas-kit:tier', Value: request.tenant.tier },
          ],
        }),
      );
      const requestId = created.CreateAccountStatus?.Id;
      if (requestId === undefined || requestId === '') {
        throw new ProviderConfigurationError('Organizations CreateAccount answered without CreateAccountStatus.Id; the endpoint does not behave like Organizations.');
      }
      return { requestId };
    } catch (error) {
      throw createAccountError(error);
    }
  }

  async findAccountCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly existingAccountId: string } | undefined> {
    checkRequest(request);
    const previous = await this.findPreviousCreation(request);
    if (previous === undefined || 'requestId' in previous) {
      return previous;
    }
    // A closing or closed account needs nothing more; any creation of its email fails (EMAIL_ALREADY_EXISTS).
    return isClosing(previous.account) ? undefined : { existingAccountId: previous.accountId };
  }

  async accountCreationStatus(requestId: string): Promise<OperationStatus<{ readonly accountId: string }>> {
    let status: CreateAccountStatus | undefined;
    try {
      status = (await this.client.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: requestId }))).CreateAccountStatus;
    } catch (error) {
      if (isNamed(error, 'CreateAccountStatusNotFoundException')) {
        throw new ProviderNotFoundError(
          `Organizations knows no create-account request ${requestId} (requests are kept 90 days). Start the account creation again.`,
          { cause: error },
        );
      }
      throw fromSdkError(SERVICE, 'DescribeCreateAccountStatus', error);
    }
    switch (status?.State) {
      case 'SUCCEEDED':
        if (status.AccountId === undefined) {
          throw new ProviderConfigurationError(`Organizations reports request ${requestId} SUCCEEDED without an AccountId; the endpoint does not behave like Organizations.`);
        }
        return { state: 'SUCCEEDED', result: { accountId: status.AccountId } };
      case 'FAILED':
        return { state: 'FAILED', reason: status.FailureReason ?? 'UNKNOWN' };
      default:
        return { state: 'IN_PROGRESS' };
    }
  }

  async moveToTenantsOu(accountId: string): Promise<void> {
    checkAccountId(accountId, 'moveToTenantsOu');
    let parents;
    try {
      parents = (await this.client.send(new ListParentsCommand({ ChildId: accountId }))).Parents ?? [];
    } catch (error) {
      throw accountError(error, 'ListParents', accountId);
    }
    const parentId = parents[0]?.Id;
    if (parentId === this.tenantsOuId) {
      return;
    }
    if (parentId === undefined) {
      throw new ProviderNotFoundError(`Organizations lists no parent for account ${accountId}; it is not in this organization.`);
    }
    try {
      // From wherever it is (a new account starts in the root), so a move interrupted earlier still ends in the tenants OU.
      await this.client.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: parentId, DestinationParentId: this.tenantsOuId }));
    } catch (error) {
      if (isNamed(error, 'DuplicateAccountException')) {
        return; // Already in the destination: an earlier attempt moved it.
      }
      if (isNamed(error, 'DestinationParentNotFoundException')) {
        throw new ProviderConfigurationError(`Organizations has no OU ${this.tenantsOuId}; pass the id of the tenants OU as tenantsOuId.`, { cause: error });
      }
      throw accountError(error, 'MoveAccount', accountId);
    }
  }

  async closeAccount(accountId: string): Promise<void> {
    checkAccountId(accountId, 'closeAccount');
    try {
      await this.client.send(new CloseAccountCommand({ AccountId: accountId }));
    } catch (error) {
      // Closed accounts leave the organization 90 days after closing: gone is closed too.
      if (isNamed(error, 'AccountAlreadyClosedException', 'AccountNotFoundException')) {
        return;
      }
      if (isNamed(error, 'ConstraintViolationException')) {
        const reason = (error as { Reason?: string }).Reason;
        if (reason === 'CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED') {
          throw new ProviderThrottledError(`Organizations CloseAccount of ${accountId}: too many closures in progress (${reason}); try again later.`, {
            cause: error,
          });
        }
        throw new ProviderLimitExceededError(`Organizations CloseAccount of ${accountId} refused: ${reason ?? 'ConstraintViolationException'}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      throw fromSdkError(SERVICE, 'CloseAccount', error);
    }
  }

  async accountState(accountId: string): Promise<string | null> {
    checkAccountId(accountId, 'accountState');
    try {
      const { Account: account } = await this.client.send(new DescribeAccountCommand({ AccountId: accountId }));
      return stateOf(account) ?? null;
    } catch (error) {
      if (isNamed(error, 'AccountNotFoundException')) {
        return null;
      }
      throw fromSdkError(SERVICE, 'DescribeAccount', error);
    }
  }

  /**
   * An account with the request's email (a finished earlier attempt), or a creation in flight with its
   * name (an attempt that crashed before recording its request id). In-flight requests carry no email,
   * only the account name, so the name must be unique per tenant (the workflow derives it from the
   * tenant's name).
   */
  private async findPreviousCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly accountId: string; readonly account: Account } | undefined> {
    const email = request.email.toLowerCase();
    const existing = await call(SERVICE, 'ListAccounts', async () => {
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(new ListAccountsCommand(nextToken === undefined ? {} : { NextToken: nextToken }));
        const match = (page.Accounts ?? []).find((account) => account.Email?.toLowerCase() === email);
        if (match !== undefined) {
          return match;
        }
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      return undefined;
    });
    if (existing?.Id !== undefined) {
      return { accountId: existing.Id, account: existing };
    }

    const statuses = await call(SERVICE, 'ListCreateAccountStatus', async () => {
      const found: CreateAccountStatus[] = [];
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(
          new ListCreateAccountStatusCommand({ States: ['IN_PROGRESS', 'SUCCEEDED'], ...(nextToken === undefined ? {} : { NextToken: nextToken }) }),
        );
        found.push(...(page.CreateAccountStatuses ?? []).filter((status) => status.AccountName === request.accountName));
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      return found;
    });
    const inFlight = statuses.find((status) => status.State === 'IN_PROGRESS' && status.Id !== undefined);
    if (inFlight?.Id !== undefined) {
      return { requestId: inFlight.Id };
    }
    // Succeeded so recently that ListAccounts does not show it yet: its email tells whether it is ours.
    for (const status of statuses.filter((candidate) => candidate.State === 'SUCCEEDED' && candidate.AccountId !== undefined)) {
      const { Account: account } = await call(SERVICE, 'DescribeAccount', () => this.client.send(new DescribeAccountCommand({ AccountId: status.AccountId })));
      if (account !== undefined && status.AccountId !== undefined && account.Email?.toLowerCase() === email) {
        return { accountId: status.AccountId, account };
      }
    }
    return undefined;
  }
}

function stateOf(account: Account | undefined): string | undefined {
  return account?.State ?? account?.Status;
}

/** SUSPENDED, PENDING_CLOSURE or CLOSED: closed, or on its way. */
function isClosing(account: Account): boolean {
  const state = stateOf(account);
  return state === 'SUSPENDED' || state === 'PENDING_CLOSURE' || state === 'CLOSED';
}

/** The id of an existing account with the request's email, unless it is closing or closed. */
function usableAccount(accountId: string, account: Account, request: AccountRequest): string {
  if (isClosing(account)) {
    throw new ProviderConflictError(
      `The email ${request.email} belongs to account ${accountId}, which is ${stateOf(account) ?? 'closing'}; a closed account keeps its email. Give tenant ${request.tenant.tenantName} another account email.`,
    );
  }
  return accountId;
}

function createAccountError(error: unknown): Error {
  if (isNamed(error, 'ConstraintViolationException')) {
    const reason = (error as { Reason?: string }).Reason;
    if (reason === 'ACCOUNT_NUMBER_LIMIT_EXCEEDED') {
      return new ProviderLimitExceededError(
        `Organizations CreateAccount refused: the organization has reached its account quota (ACCOUNT_NUMBER_LIMIT_EXCEEDED). Ask AWS Support to raise it, then retry.`,
        { cause: error },
      );
    }
    if (reason === 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED') {
      return new ProviderThrottledError(`Organizations CreateAccount refused: too many accounts created recently (${reason}); try again later.`, { cause: error });
    }
    return new ProviderLimitExceededError(`Organizations CreateAccount refused: ${reason ?? 'ConstraintViolationException'}: ${errorMessage(error)}`, { cause: error });
  }
  return fromSdkError(SERVICE, 'CreateAccount', error);
}

function accountError(error: unknown, operation: string, accountId: string): Error {
  if (isNamed(error, 'AccountNotFoundException', 'ChildNotFoundException', 'SourceParentNotFoundException')) {
    return new ProviderNotFoundError(`Organizations ${operation}: account ${accountId} is not in this organization (${errorMessage(error)}).`, { cause: error });
  }
  return fromSdkError(SERVICE, operation, error);
}

function checkRequest(request: AccountRequest): void {
  if (!EMAIL.test(request.email) || request.email.length > 64) {
    throw new ProviderConfigurationError(`startAccountCreation: email must look like name@domain.tld and have at most 64 characters, received ${JSON.stringify(request.email)}.`);
  }
  if (request.accountName.length < 1 || request.accountName.length > 50) {
    throw new ProviderConfigurationError(`startAccountCreation: accountName must have 1 to 50 characters, received ${JSON.stringify(request.accountName)}.`);
  }
}

function checkAccountId(accountId: string, caller: string): void {
  if (!ACCOUNT_ID.test(accountId)) {
    throw new ProviderConfigurationError(`${caller}: accountId must be 12 digits, received ${JSON.stringify(accountId)}.`);
  }
}
