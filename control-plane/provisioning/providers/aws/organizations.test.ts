import {
  AccountAlreadyClosedException,
  AccountNotFoundException,
  CloseAccountCommand,
  ConcurrentModificationException,
  ConstraintViolationException,
  CreateAccountCommand,
  CreateAccountStatusNotFoundException,
  DescribeAccountCommand,
  DescribeCreateAccountStatusCommand,
  DuplicateAccountException,
  ListAccountsCommand,
  ListCreateAccountStatusCommand,
  ListParentsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TooManyRequestsException,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import type { AccountRequest } from '../../providers.js';
import {
  OrganizationsAccountProvider,
  ProviderConfigurationError,
  ProviderConflictError,
  ProviderError,
  ProviderLimitExceededError,
  ProviderNotFoundError,
  ProviderThrottledError,
  ProviderUnavailableError,
} from './index.js';

const OU = 'ou-ab12-cd34ef56';
const ROOT = 'r-ab12';
const ACCOUNT = '111122223333';
const request: AccountRequest = {
  email: 'aws+acme@example.com',
  accountName: 'saas-kit-acme',
  tenant: { tenantId: '3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60', tenantName: 'acme', tier: 'silo' },
};
const meta = { $metadata: {} };

const organizations = mockClient(OrganizationsClient);
const client = new OrganizationsClient({ region: 'us-east-1' });
const provider = new OrganizationsAccountProvider({ client, tenantsOuId: OU });

/** No earlier attempt: no account with the email, no creation of the name in flight. */
function nothingEarlier(): void {
  organizations.on(ListAccountsCommand).resolves({ Accounts: [] });
  organizations.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
}

beforeEach(() => {
  organizations.reset();
});

afterAll(() => {
  organizations.restore();
  client.destroy();
});

describe('startAccountCreation', () => {
  it('sends CreateAccount with the email, name, tenant tags, billing access denied and the access role', async () => {
    nothingEarlier();
    organizations.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-0123456789abcdef0123456789abcdef', State: 'IN_PROGRESS' } });

    await expect(provider.startAccountCreation(request)).resolves.toEqual({ requestId: 'car-0123456789abcdef0123456789abcdef' });

    expect(organizations.commandCalls(CreateAccountCommand)[0]?.args[0].input).toEqual({
      Email: 'aws+acme@example.com',
      AccountName: 'saas-kit-acme',
      RoleName: 'OrganizationAccountAccessRole',
      IamUserAccessToBilling: 'DENY',
      Tags: [
        { Key: 'saas-kit:tenant-id', Value: '3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60' },
        { Key: 'saas-kit:tenant', Value: 'acme' },
        { Key: 'saas-kit:tier', Value: 'silo' },
      ],
    });
    expect(organizations.commandCalls(ListCreateAccountStatusCommand)[0]?.args[0].input).toEqual({ States: ['IN_PROGRESS', 'SUCCEEDED'] });
  });

  it('returns the existing account when the email already belongs to one (found on the second ListAccounts page)', async () => {
    organizations
      .on(ListAccountsCommand)
      .resolvesOnce({ Accounts: [{ Id: '999988887777', Email: 'other@example.com', State: 'ACTIVE' }], NextToken: 'page-2' })
      .resolvesOnce({ Accounts: [{ Id: ACCOUNT, Email: 'AWS+acme@example.com', State: 'ACTIVE' }] });

    await expect(provider.startAccountCreation(request)).resolves.toEqual({ existingAccountId: ACCOUNT });

    expect(organizations.commandCalls(ListAccountsCommand).map((c) => c.args[0].input)).toEqual([{}, { NextToken: 'page-2' }]);
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('reuses a creation of the same account name still in flight', async () => {
    organizations.on(ListAccountsCommand).resolves({ Accounts: [] });
    organizations.on(ListCreateAccountStatusCommand).resolves({
      CreateAccountStatuses: [
        { Id: 'car-other', AccountName: 'saas-kit-globex', State: 'IN_PROGRESS' },
        { Id: 'car-ours', AccountName: 'saas-kit-acme', State: 'IN_PROGRESS' },
      ],
    });

    await expect(provider.startAccountCreation(request)).resolves.toEqual({ requestId: 'car-ours' });
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('finds an account that just succeeded but is not listed yet, by its email', async () => {
    organizations.on(ListAccountsCommand).resolves({ Accounts: [] });
    organizations.on(ListCreateAccountStatusCommand).resolves({
      CreateAccountStatuses: [{ Id: 'car-ours', AccountName: 'saas-kit-acme', State: 'SUCCEEDED', AccountId: ACCOUNT }],
    });
    organizations.on(DescribeAccountCommand, { AccountId: ACCOUNT }).resolves({ Account: { Id: ACCOUNT, Email: 'aws+acme@example.com', State: 'ACTIVE' } });

    await expect(provider.startAccountCreation(request)).resolves.toEqual({ existingAccountId: ACCOUNT });
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('creates when an account of the same name has another email', async () => {
    organizations.on(ListAccountsCommand).resolves({ Accounts: [] });
    organizations.on(ListCreateAccountStatusCommand).resolves({
      CreateAccountStatuses: [{ Id: 'car-old', AccountName: 'saas-kit-acme', State: 'SUCCEEDED', AccountId: ACCOUNT }],
    });
    organizations.on(DescribeAccountCommand).resolves({ Account: { Id: ACCOUNT, Email: 'someone-else@example.com', State: 'ACTIVE' } });
    organizations.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-new', State: 'IN_PROGRESS' } });

    await expect(provider.startAccountCreation(request)).resolves.toEqual({ requestId: 'car-new' });
  });

  it('refuses an email that belongs to a closed account', async () => {
    organizations.on(ListAccountsCommand).resolves({ Accounts: [{ Id: ACCOUNT, Email: 'aws+acme@example.com', State: 'SUSPENDED' }] });

    const attempt = provider.startAccountCreation(request);
    await expect(attempt).rejects.toThrow(ProviderConflictError);
    await expect(attempt).rejects.toThrow(/belongs to account 111122223333, which is SUSPENDED/);
  });

  it('ACCOUNT_NUMBER_LIMIT_EXCEEDED is a limit error the workflow does not retry', async () => {
    nothingEarlier();
    organizations
      .on(CreateAccountCommand)
      .rejects(new ConstraintViolationException({ ...meta, message: 'You have exceeded the allowed number of AWS accounts.', Reason: 'ACCOUNT_NUMBER_LIMIT_EXCEEDED' }));

    const error: unknown = await provider.startAccountCreation(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderLimitExceededError);
    expect(error).toMatchObject({ name: 'ProviderLimitExceededError', retryable: false });
    expect((error as Error).message).toMatch(/ACCOUNT_NUMBER_LIMIT_EXCEEDED/);
    expect((error as Error).cause).toBeInstanceOf(ConstraintViolationException);
  });

  it('throttling (TooManyRequestsException) is retryable, with the SDK error as cause', async () => {
    nothingEarlier();
    const throttled = new TooManyRequestsException({ ...meta, message: 'Rate exceeded' });
    organizations.on(CreateAccountCommand).rejects(throttled);

    const error: unknown = await provider.startAccountCreation(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderThrottledError);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ name: 'ProviderThrottledError', retryable: true, cause: throttled });
    expect((error as Error).message).toBe('Organizations CreateAccount failed: TooManyRequestsException: Rate exceeded');
  });

  it('throttling while looking for an earlier attempt is retryable too', async () => {
    organizations.on(ListAccountsCommand).rejects(new TooManyRequestsException({ ...meta, message: 'Rate exceeded' }));
    await expect(provider.startAccountCreation(request)).rejects.toThrow(ProviderThrottledError);
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('a server fault is retryable', async () => {
    nothingEarlier();
    organizations.on(CreateAccountCommand).rejects(Object.assign(new Error('internal'), { name: 'ServiceException', $fault: 'server' }));
    await expect(provider.startAccountCreation(request)).rejects.toThrow(ProviderUnavailableError);
  });

  it('rejects a malformed email before calling Organizations', async () => {
    await expect(provider.startAccountCreation({ ...request, email: 'not-an-email' })).rejects.toThrow(ProviderConfigurationError);
    expect(organizations.calls()).toHaveLength(0);
  });
});

describe('findAccountCreation', () => {
  it('finds the creation of the same account name still in flight, and starts none', async () => {
    organizations.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '999988887777', Email: 'other@example.com', State: 'ACTIVE' }] });
    organizations.on(ListCreateAccountStatusCommand).resolves({
      CreateAccountStatuses: [
        { Id: 'car-other', AccountName: 'saas-kit-globex', State: 'IN_PROGRESS' },
        { Id: 'car-ours', AccountName: 'saas-kit-acme', State: 'IN_PROGRESS' },
      ],
    });

    await expect(provider.findAccountCreation(request)).resolves.toEqual({ requestId: 'car-ours' });
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('finds the account of the email, listed or just succeeded', async () => {
    organizations.on(ListAccountsCommand).resolvesOnce({ Accounts: [{ Id: ACCOUNT, Email: 'AWS+acme@example.com', State: 'ACTIVE' }] }).resolves({ Accounts: [] });
    organizations.on(ListCreateAccountStatusCommand).resolves({
      CreateAccountStatuses: [{ Id: 'car-ours', AccountName: 'saas-kit-acme', State: 'SUCCEEDED', AccountId: '444455556666' }],
    });
    organizations.on(DescribeAccountCommand, { AccountId: '444455556666' }).resolves({ Account: { Id: '444455556666', Email: 'aws+acme@example.com', State: 'ACTIVE' } });

    await expect(provider.findAccountCreation(request)).resolves.toEqual({ existingAccountId: ACCOUNT });
    await expect(provider.findAccountCreation(request)).resolves.toEqual({ existingAccountId: '444455556666' });
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('finds nothing, and starts nothing, when no creation was started or its account is closed', async () => {
    nothingEarlier();
    await expect(provider.findAccountCreation(request)).resolves.toBeUndefined();

    organizations.on(ListAccountsCommand).resolves({ Accounts: [{ Id: ACCOUNT, Email: 'aws+acme@example.com', State: 'PENDING_CLOSURE' }] });
    await expect(provider.findAccountCreation(request)).resolves.toBeUndefined();
    expect(organizations.commandCalls(CreateAccountCommand)).toHaveLength(0);
  });

  it('throttling while looking is retryable', async () => {
    organizations.on(ListAccountsCommand).rejects(new TooManyRequestsException({ ...meta, message: 'Rate exceeded' }));
    await expect(provider.findAccountCreation(request)).rejects.toThrow(ProviderThrottledError);
  });
});

describe('accountCreationStatus', () => {
  it.each([
    [{ State: 'IN_PROGRESS' as const }, { state: 'IN_PROGRESS' }],
    [{ State: 'SUCCEEDED' as const, AccountId: ACCOUNT }, { state: 'SUCCEEDED', result: { accountId: ACCOUNT } }],
    [{ State: 'FAILED' as const, FailureReason: 'EMAIL_ALREADY_EXISTS' as const }, { state: 'FAILED', reason: 'EMAIL_ALREADY_EXISTS' }],
    [{ State: 'FAILED' as const, FailureReason: 'ACCOUNT_LIMIT_EXCEEDED' as const }, { state: 'FAILED', reason: 'ACCOUNT_LIMIT_EXCEEDED' }],
    [{ State: 'FAILED' as const, FailureReason: 'INVALID_EMAIL' as const }, { state: 'FAILED', reason: 'INVALID_EMAIL' }],
  ])('maps %o to %o', async (status, expected) => {
    organizations.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-1', ...status } });

    await expect(provider.accountCreationStatus('car-1')).resolves.toEqual(expected);
    expect(organizations.commandCalls(DescribeCreateAccountStatusCommand)[0]?.args[0].input).toEqual({ CreateAccountRequestId: 'car-1' });
  });

  it('an unknown request id is a not-found error', async () => {
    organizations.on(DescribeCreateAccountStatusCommand).rejects(new CreateAccountStatusNotFoundException({ ...meta, message: 'not found' }));
    await expect(provider.accountCreationStatus('car-gone')).rejects.toThrow(ProviderNotFoundError);
  });

  it('throttling is retryable', async () => {
    organizations.on(DescribeCreateAccountStatusCommand).rejects(new TooManyRequestsException({ ...meta, message: 'Rate exceeded' }));
    await expect(provider.accountCreationStatus('car-1')).rejects.toMatchObject({ retryable: true });
  });
});

describe('moveToTenantsOu', () => {
  it('moves the account from the root to the tenants OU', async () => {
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: ROOT, Type: 'ROOT' }] });
    organizations.on(MoveAccountCommand).resolves({});

    await provider.moveToTenantsOu(ACCOUNT);

    expect(organizations.commandCalls(ListParentsCommand)[0]?.args[0].input).toEqual({ ChildId: ACCOUNT });
    expect(organizations.commandCalls(MoveAccountCommand)[0]?.args[0].input).toEqual({ AccountId: ACCOUNT, SourceParentId: ROOT, DestinationParentId: OU });
  });

  it('an account already in the OU is success without a move', async () => {
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: OU, Type: 'ORGANIZATIONAL_UNIT' }] });
    await provider.moveToTenantsOu(ACCOUNT);
    expect(organizations.commandCalls(MoveAccountCommand)).toHaveLength(0);
  });

  it('DuplicateAccountException (moved meanwhile) is success', async () => {
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: ROOT, Type: 'ROOT' }] });
    organizations.on(MoveAccountCommand).rejects(new DuplicateAccountException({ ...meta, message: 'already in destination' }));
    await expect(provider.moveToTenantsOu(ACCOUNT)).resolves.toBeUndefined();
  });

  it('an account outside the organization is a not-found error', async () => {
    organizations.on(ListParentsCommand).rejects(new AccountNotFoundException({ ...meta, message: 'no such account' }));
    const attempt = provider.moveToTenantsOu(ACCOUNT);
    await expect(attempt).rejects.toThrow(ProviderNotFoundError);
    await expect(attempt).rejects.toMatchObject({ retryable: false });
  });

  it('ConcurrentModificationException is retryable', async () => {
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: ROOT, Type: 'ROOT' }] });
    organizations.on(MoveAccountCommand).rejects(new ConcurrentModificationException({ ...meta, message: 'busy' }));
    await expect(provider.moveToTenantsOu(ACCOUNT)).rejects.toThrow(ProviderThrottledError);
  });

  it('rejects an account id that is not 12 digits', async () => {
    await expect(provider.moveToTenantsOu('1234')).rejects.toThrow(/accountId must be 12 digits, received "1234"/);
  });
});

describe('closeAccount', () => {
  it('sends CloseAccount', async () => {
    organizations.on(CloseAccountCommand).resolves({});
    await provider.closeAccount(ACCOUNT);
    expect(organizations.commandCalls(CloseAccountCommand)[0]?.args[0].input).toEqual({ AccountId: ACCOUNT });
  });

  it.each([
    ['already closed', new AccountAlreadyClosedException({ ...meta, message: 'closed' })],
    ['gone from the organization', new AccountNotFoundException({ ...meta, message: 'no such account' })],
  ])('an account %s is success', async (_case, error) => {
    organizations.on(CloseAccountCommand).rejects(error);
    await expect(provider.closeAccount(ACCOUNT)).resolves.toBeUndefined();
  });

  it('too many closures at once is retryable; the 30-day quota is not', async () => {
    organizations
      .on(CloseAccountCommand)
      .rejectsOnce(new ConstraintViolationException({ ...meta, message: 'slow down', Reason: 'CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED' }))
      .rejectsOnce(new ConstraintViolationException({ ...meta, message: 'quota', Reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED' }));

    await expect(provider.closeAccount(ACCOUNT)).rejects.toMatchObject({ name: 'ProviderThrottledError', retryable: true });
    await expect(provider.closeAccount(ACCOUNT)).rejects.toMatchObject({ name: 'ProviderLimitExceededError', retryable: false });
  });

  it('throttling is retryable', async () => {
    organizations.on(CloseAccountCommand).rejects(new TooManyRequestsException({ ...meta, message: 'Rate exceeded' }));
    await expect(provider.closeAccount(ACCOUNT)).rejects.toThrow(ProviderThrottledError);
  });
});

describe('accountState', () => {
  it('answers the account State, falling back to the older Status field', async () => {
    organizations
      .on(DescribeAccountCommand)
      .resolvesOnce({ Account: { Id: ACCOUNT, State: 'PENDING_CLOSURE', Status: 'PENDING_CLOSURE' } })
      .resolvesOnce({ Account: { Id: ACCOUNT, Status: 'ACTIVE' } });

    await expect(provider.accountState(ACCOUNT)).resolves.toBe('PENDING_CLOSURE');
    await expect(provider.accountState(ACCOUNT)).resolves.toBe('ACTIVE');
    expect(organizations.commandCalls(DescribeAccountCommand)[0]?.args[0].input).toEqual({ AccountId: ACCOUNT });
  });

  it('an unknown account is null', async () => {
    organizations.on(DescribeAccountCommand).rejects(new AccountNotFoundException({ ...meta, message: 'no such account' }));
    await expect(provider.accountState(ACCOUNT)).resolves.toBeNull();
  });
});

describe('configuration', () => {
  it('rejects a tenants OU id that is not an OU id', () => {
    expect(() => new OrganizationsAccountProvider({ client, tenantsOuId: 'tenants' })).toThrow(/tenantsOuId must be an OU id.*received "tenants"/);
  });

  it('uses another access role name when given', async () => {
    nothingEarlier();
    organizations.on(CreateAccountCommand).resolves({ CreateAccountStatus: { Id: 'car-1' } });
    await new OrganizationsAccountProvider({ client, tenantsOuId: OU, roleName: 'TenantAdmin' }).startAccountCreation(request);
    expect(organizations.commandCalls(CreateAccountCommand)[0]?.args[0].input.RoleName).toBe('TenantAdmin');
  });
});
