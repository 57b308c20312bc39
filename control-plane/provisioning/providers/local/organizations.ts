import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { LocalProviderError, ProvisioningConfigError } from '../../errors.js';
import type { AccountProvider, AccountRequest, OperationStatus } from '../../providers.js';
import { Mutex, readJson, writeJson } from './files.js';

/** Reasons DescribeCreateAccountStatus gives for a failed creation (a subset of Organizations'). */
export type CreateAccountFailureReason = 'ACCOUNT_LIMIT_EXCEEDED' | 'EMAIL_ALREADY_EXISTS' | 'INVALID_EMAIL' | 'CONCURRENT_ACCOUNT_MODIFICATION' | 'INTERNAL_FAILURE';

export interface LocalOrganizationsProps {
  /**
   * Keeps the organization in `<dataDir>/organizations.json`, so accounts survive a restart.
   * @default - in memory
   */
  readonly dataDir?: string;
  /**
   * How long a creation stays IN_PROGRESS (Organizations takes minutes).
   * @default 2000
   */
  readonly creationDelayMs?: number;
  /**
   * How long a closed account stays PENDING_CLOSURE before it reads SUSPENDED.
   * @default 2000
   */
  readonly closureDelayMs?: number;
  /**
   * Emails whose creation fails, with the reason; change with `failCreationsFor` / `stopFailing`.
   * @default - none
   */
  readonly failures?: Readonly<Record<string, CreateAccountFailureReason>>;
  /**
   * Emails that belong to accounts outside the organization: their creation fails with EMAIL_ALREADY_EXISTS.
   * @default - none
   */
  readonly externalEmails?: readonly string[];
  /** @default - the system clock */
  readonly clock?: () => Date;
}

interface CreationRequest {
  readonly id: string;
  readonly email: string;
  readonly accountName: string;
  readonly startedAt: string;
  readonly completesAt: string;
  /** Decided when the request starts, visible once it completes. */
  readonly outcome: { readonly state: 'SUCCEEDED'; readonly accountId: string } | { readonly state: 'FAILED'; readonly reason: CreateAccountFailureReason };
}

interface Account {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly status: 'ACTIVE' | 'PENDING_CLOSURE';
  readonly ou: 'root' | 'tenants';
  readonly closedAt?: string;
}

interface OrganizationState {
  requests: Record<string, CreationRequest>;
  accounts: Record<string, Account>;
}

/**
 * AWS Organizations, simulated for `npm start` and tests: CreateAccount is asynchronous
 * (IN_PROGRESS, then SUCCEEDED or FAILED after `creationDelayMs`), an email names one account,
 * a closed account's email cannot be used again, and failures are injected per email.
 */
export class LocalOrganizations implements AccountProvider {
  private readonly mutex = new Mutex();
  private readonly failures: Map<string, CreateAccountFailureReason>;
  private readonly externalEmails: ReadonlySet<string>;
  private readonly creationDelayMs: number;
  private readonly closureDelayMs: number;
  private readonly clock: () => Date;
  private readonly file: string | undefined;
  private memory: OrganizationState | undefined;

  constructor(props: LocalOrganizationsProps = {}) {
    this.creationDelayMs = props.creationDelayMs ?? 2000;
    this.closureDelayMs = props.closureDelayMs ?? 2000;
    if (!(this.creationDelayMs >= 0) || !(this.closureDelayMs >= 0)) {
      throw new ProvisioningConfigError(`LocalOrganizations delays must be 0 or more; received creationDelayMs ${this.creationDelayMs}, closureDelayMs ${this.closureDelayMs}.`);
    }
    this.failures = new Map(Object.entries(props.failures ?? {}).map(([email, reason]) => [email.toLowerCase(), reason]));
    this.externalEmails = new Set((props.externalEmails ?? []).map((email) => email.toLowerCase()));
    this.clock = props.clock ?? (() => new Date());
    this.file = props.dataDir ? join(props.dataDir, 'organizations.json') : undefined;
  }

  /** From now on, creations for `email` fail with `reason`. */
  failCreationsFor(email: string, reason: CreateAccountFailureReason): void {
    this.failures.set(email.toLowerCase(), reason);
  }

  stopFailing(email: string): void {
    this.failures.delete(email.toLowerCase());
  }

  /** Every CreateAccount request started, oldest first (tests count them). */
  async creationRequests(): Promise<readonly { readonly id: string; readonly email: string }[]> {
    const state = await this.mutex.run(() => this.load());
    return Object.values(state.requests)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
      .map(({ id, email }) => ({ id, email }));
  }

  /** Every account of the organization with its status and OU. */
  async accounts(): Promise<readonly { readonly id: string; readonly email: string; readonly status: string; readonly ou: string }[]> {
    return this.update((state, now) => Object.values(state.accounts).map((account) => ({ id: account.id, email: account.email, status: this.statusOf(account, now), ou: account.ou })));
  }

  startAccountCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly existingAccountId: string }> {
    const email = request.email.toLowerCase();
    return this.update((state, now) => {
      // A retry after a crash finds the creation it started, instead of starting a second one.
      const previous = this.previousCreation(state, email, now);
      if (previous) return previous;
      const closed = Object.values(state.accounts).some((account) => account.email === email);
      const injected = this.failures.get(email);
      const reason: CreateAccountFailureReason | undefined = injected ?? (closed || this.externalEmails.has(email) ? 'EMAIL_ALREADY_EXISTS' : undefined);
      const id = `car-${randomUUID().replace(/-/g, '')}`;
      state.requests[id] = {
        id,
        email,
        accountName: request.accountName,
        startedAt: now.toISOString(),
        completesAt: new Date(now.getTime() + this.creationDelayMs).toISOString(),
        outcome: reason ? { state: 'FAILED', reason } : { state: 'SUCCEEDED', accountId: this.newAccountId(state) },
      };
      return { requestId: id };
    });
  }

  findAccountCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly existingAccountId: string } | undefined> {
    const email = request.email.toLowerCase();
    return this.update((state, now) => this.previousCreation(state, email, now));
  }

  accountCreationStatus(requestId: string): Promise<OperationStatus<{ readonly accountId: string }>> {
    return this.update((state, now) => {
      const request = state.requests[requestId];
      if (!request) throw new LocalProviderError(`CreateAccountStatusNotFoundException: no account creation request ${requestId}.`);
      if (Date.parse(request.completesAt) > now.getTime()) return { state: 'IN_PROGRESS' };
      return request.outcome.state === 'SUCCEEDED' ? { state: 'SUCCEEDED', result: { accountId: request.outcome.accountId } } : { state: 'FAILED', reason: request.outcome.reason };
    });
  }

  moveToTenantsOu(accountId: string): Promise<void> {
    return this.update((state) => {
      const account = this.accountOf(state, accountId);
      state.accounts[accountId] = { ...account, ou: 'tenants' };
    });
  }

  closeAccount(accountId: string): Promise<void> {
    return this.update((state, now) => {
      const account = this.accountOf(state, accountId);
      if (account.status === 'ACTIVE') state.accounts[accountId] = { ...account, status: 'PENDING_CLOSURE', closedAt: now.toISOString() };
    });
  }

  accountState(accountId: string): Promise<string | null> {
    return this.update((state, now) => {
      const account = state.accounts[accountId];
      return account ? this.statusOf(account, now) : null;
    });
  }

  /** The ACTIVE account with the email, else its creation in flight. */
  private previousCreation(state: OrganizationState, email: string, now: Date): { readonly requestId: string } | { readonly existingAccountId: string } | undefined {
    const existing = Object.values(state.accounts).find((account) => account.email === email && account.status === 'ACTIVE');
    if (existing) return { existingAccountId: existing.id };
    const inFlight = Object.values(state.requests).find((r) => r.email === email && Date.parse(r.completesAt) > now.getTime());
    return inFlight ? { requestId: inFlight.id } : undefined;
  }

  private statusOf(account: Account, now: Date): string {
    if (account.status === 'PENDING_CLOSURE' && account.closedAt && Date.parse(account.closedAt) + this.closureDelayMs <= now.getTime()) return 'SUSPENDED';
    return account.status;
  }

  private accountOf(state: OrganizationState, accountId: string): Account {
    const account = state.accounts[accountId];
    if (!account) throw new LocalProviderError(`AccountNotFoundException: no account ${accountId} in the organization.`);
    return account;
  }

  private newAccountId(state: OrganizationState): string {
    const taken = new Set([...Object.keys(state.accounts), ...Object.values(state.requests).flatMap((r) => (r.outcome.state === 'SUCCEEDED' ? [r.outcome.accountId] : []))]);
    for (;;) {
      const id = String(randomInt(100_000_000_000, 999_999_999_999));
      if (!taken.has(id)) return id;
    }
  }

  /** Settles the creations that completed, then runs `change`, then saves; one at a time. */
  private update<T>(change: (state: OrganizationState, now: Date) => T): Promise<T> {
    return this.mutex.run(async () => {
      const state = await this.load();
      const now = this.clock();
      for (const request of Object.values(state.requests)) {
        if (request.outcome.state === 'SUCCEEDED' && Date.parse(request.completesAt) <= now.getTime() && !state.accounts[request.outcome.accountId]) {
          state.accounts[request.outcome.accountId] = { id: request.outcome.accountId, email: request.email, name: request.accountName, status: 'ACTIVE', ou: 'root' };
        }
      }
      const result = change(state, now);
      if (this.file) await writeJson(this.file, state);
      return result;
    });
  }

  private async load(): Promise<OrganizationState> {
    if (!this.memory) this.memory = (this.file ? await readJson<OrganizationState>(this.file) : undefined) ?? { requests: {}, accounts: {} };
    return this.memory;
  }
}
