import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import stringify from 'safe-stable-stringify';
import type { z } from 'zod';
import { PLANS, TierPolicyError, chooseTier, type TierDecision, type TierPolicyContext } from '../../tenant-tiers/index.js';
import type { Principal } from '../auth/principal.js';
import { isUniqueViolation, type Database, type PreparedRead } from '../db/database.js';
import { ConflictError, ForbiddenError, IdempotencyMismatchError, NotFoundError, UnprocessableError, BadRequestError } from '../errors.js';
import { enqueueOffboarding, enqueueOnboarding, enqueueTierChange, plannedTier } from '../provisioning/workflows.js';
import { recordStatusChange, transitionTenant } from './lifecycle.js';
import { checkRetentionMs, DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS } from './idempotency-keys.js';
import { BillingRecord, IdempotencyKey, Plan, Subscription, Tenant, TenantStatusChange, TenantUser, TierChangeRequest, type TenantStatus } from './models/index.js';
import { recordEvent } from './outbox.js';
import type * as schemas from './schemas.js';

type TenantCreate = z.infer<typeof schemas.TenantCreate>;
type TenantPatch = z.infer<typeof schemas.TenantPatch>;
type TenantListQuery = z.infer<typeof schemas.TenantListQuery>;
type UserCreate = z.infer<typeof schemas.UserCreate>;
export type TenantView = z.infer<typeof schemas.Tenant>;
type TierDecisionRequest = z.infer<typeof schemas.TierDecisionRequest>;

export interface TenantServiceOptions {
  readonly tierPolicy?: TierPolicyContext;
  /**
   * How long an Idempotency-Key replays its first answer; after it the key starts a new request
   * (`IdempotencyKeySweeper` deletes the expired ones).
   * @default DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS (24 hours)
   */
  readonly idempotencyKeyRetentionMs?: number;
  /** @default - the system clock */
  readonly clock?: () => Date;
}

export interface Registration {
  readonly status: number;
  readonly tenant: TenantView;
  /** True when the answer is the stored one of an earlier request with the same key. */
  readonly replayed: boolean;
}

/**
 * The Tenant Manager's use cases. Every query runs through `Database`: platform callers as the
 * platform, tenant callers as their tenant (row-level security), so a tenant never reaches
 * another tenant's rows even where a filter is missing.
 */
export class TenantService {
  private readonly clock: () => Date;
  private readonly idempotencyKeyRetentionMs: number;
  /** The hot read of a tenant caller: `GET /v1/tenants/{id}`. */
  private readonly tenantById: PreparedRead<Tenant>;

  constructor(
    private readonly db: Database,
    private readonly options: TenantServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.idempotencyKeyRetentionMs = checkRetentionMs(options.idempotencyKeyRetentionMs ?? DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS);
    this.tenantById = db.prepareRead(Tenant.query(db.knex).where('id', 'id'));
  }

  /** Makes the stored plan catalog match tenant-tiers' PLANS. */
  async syncPlans(): Promise<void> {
    const now = this.clock();
    const rows = Object.values(PLANS).map((plan) => ({
      id: plan.name,
      display_name: plan.displayName,
      monthly_price_cents: Math.round(plan.monthlyPriceUsd * 100),
      default_tier: plan.defaultTier,
      allowed_tiers: [...plan.allowedTiers],
      max_users: plan.maxUsers,
      trial_days: plan.trialDays,
      updated_at: now,
    }));
    await this.db.knex('plans').insert(rows).onConflict('id').merge();
  }

  decideTier(request: TierDecisionRequest): TierDecision {
    try {
      return chooseTier(request, this.options.tierPolicy);
    } catch (error) {
      if (error instanceof TierPolicyError) {
        throw new UnprocessableError(error.message, { cause: error, errors: [{ in: 'body', pointer: '#/' + error.field.replace(/\./g, '/'), detail: error.message }] });
      }
      throw error;
    }
  }

  /**
   * Registers a tenant (PENDING) with its admin user and subscription, exactly once per caller
   * and Idempotency-Key: the key is claimed in the same transaction that creates the tenant, so
   * concurrent retries wait for the first and replay its answer.
   */
  async register(principal: Principal, idempotencyKey: string, request: TenantCreate): Promise<Registration> {
    requirePlatform(principal, 'register tenants');
    const requestHash = createHash('sha256').update(stringify(request) ?? '').digest('hex');
    const decision = this.decideTier(request);
    const now = this.clock();
    return this.db.asPlatform(async (trx) => {
      // A key past its retention is claimed again, as if new: the sweeper may not have deleted it yet.
      const claimed = await trx('idempotency_keys')
        .insert({ caller: principal.subject, key: idempotencyKey, request_hash: requestHash, created_at: now })
        .onConflict(['caller', 'key'])
        .merge({ request_hash: requestHash, created_at: now, status_code: null, response_body: null })
        .where('idempotency_keys.created_at', '<', new Date(now.getTime() - this.idempotencyKeyRetentionMs))
        .returning('key');
      if (claimed.length === 0) {
        const earlier = await IdempotencyKey.query(trx).findById([principal.subject, idempotencyKey]);
        if (!earlier || earlier.requestHash !== requestHash) {
          throw new IdempotencyMismatchError(`Idempotency-Key "${idempotencyKey}" was used with a different request: use a new key for a new request.`);
        }
        return { status: earlier.statusCode ?? 202, tenant: earlier.responseBody as TenantView, replayed: true };
      }

      const tenant = await this.insertTenant(trx, request, decision, now);
      const view = toTenantView(tenant);
      await IdempotencyKey.query(trx).findById([principal.subject, idempotencyKey]).patch({ statusCode: 202, responseBody: view });
      return { status: 202, tenant: view, replayed: false };
    });
  }

  private async insertTenant(trx: Knex.Transaction, request: TenantCreate, decision: TierDecision, now: Date): Promise<Tenant> {
    const tenantId = randomUUID();
    let tenant: Tenant;
    try {
      tenant = await Tenant.query(trx).insertAndFetch({
        id: tenantId,
        name: request.name,
        displayName: request.displayName ?? request.name,
        planId: decision.plan,
        tier: decision.tier,
        tierReasons: [...decision.reasons],
        requirements: request.requirements ?? {},
        tierOverride: request.tierOverride ?? null,
        status: 'PENDING',
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`A tenant named "${request.name}" already exists: choose another name.`, { cause: error, errors: [{ in: 'body', pointer: '#/name', detail: 'is taken' }] });
      }
      throw error;
    }
    await recordEvent(trx, { type: 'tenant.registered', tenantId, time: now, data: { name: tenant.name, plan: tenant.planId, tier: tenant.tier, reasons: tenant.tierReasons } });
    await recordStatusChange(trx, tenantId, null, 'PENDING', 'registered', now);
    await this.insertUser(trx, tenantId, { email: request.adminEmail, role: 'tenant-admin' }, now);
    await this.startSubscription(trx, tenant, decision, now);
    await enqueueOnboarding(trx, tenant, now);
    return tenant;
  }

  private async startSubscription(trx: Knex.Transaction, tenant: Tenant, decision: TierDecision, now: Date): Promise<void> {
    const subscription = await Subscription.query(trx).insertAndFetch({
      id: randomUUID(),
      tenantId: tenant.id,
      planId: decision.plan,
      tier: decision.tier,
      monthlyPriceCents: Math.round(decision.monthlyEstimateUsd * 100),
      startedAt: now,
      endedAt: null,
    });
    // A plan's trial is free; otherwise the first month is billed from the start of the subscription.
    const plan = PLANS[decision.plan];
    if (plan.trialDays === null && subscription.monthlyPriceCents > 0) {
      const periodEnd = new Date(now);
      periodEnd.setUTCMonth(periodEnd.getUTCMonth() + 1);
      await BillingRecord.query(trx).insert({
        id: randomUUID(),
        tenantId: tenant.id,
        subscriptionId: subscription.id,
        periodStart: now.toISOString().slice(0, 10),
        periodEnd: periodEnd.toISOString().slice(0, 10),
        amountCents: subscription.monthlyPriceCents,
        description: `${plan.displayName} plan on the ${decision.tier} tier, first month`,
        createdAt: now,
      });
    }
  }

  async get(principal: Principal, tenantId: string): Promise<TenantView> {
    const [tenant] =
      principal.kind === 'tenant' ? await this.db.readAsTenant(principal.tenantId, this.tenantById, [tenantId]) : await Tenant.query(this.db.knex).findByIds([tenantId]);
    if (!tenant) throw notFound(tenantId);
    return toTenantView(tenant);
  }

  async list(principal: Principal, filters: TenantListQuery): Promise<{ items: TenantView[]; nextCursor: string | null }> {
    const cursor = filters.cursor ? decodeCursor(filters.cursor) : null;
    const query = Tenant.query(this.db.knex)
      .modify('after', cursor)
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .limit(filters.limit + 1);
    if (filters.status) void query.where('status', filters.status);
    if (filters.tier) void query.where('tier', filters.tier);
    if (filters.plan) void query.where('plan_id', filters.plan);
    if (principal.kind === 'tenant') {
      // Row-level security already limits the rows; the filter lets Postgres use the primary key.
      void query.where('id', principal.tenantId);
    }
    const rows = principal.kind === 'tenant' ? await this.db.asTenant(principal.tenantId, async (trx) => await query.transacting(trx)) : await query;
    const page = rows.slice(0, filters.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > filters.limit && last ? encodeCursor(last) : null;
    return { items: page.map(toTenantView), nextCursor };
  }

  /** Changes plan or display name; a plan that needs another tier is recorded as a tier-change request, carried out by its workflow. */
  async update(principal: Principal, tenantId: string, patch: TenantPatch): Promise<{ tenant: TenantView; tierChange: ReturnType<typeof toTierChangeView> | null }> {
    if (principal.kind === 'tenant' && principal.role !== 'tenant-admin') throw new ForbiddenError('Only a tenant-admin can change the tenant.');
    const now = this.clock();
    return this.scoped(principal, async (trx) => {
      const tenant = await Tenant.query(trx).findById(tenantId).forUpdate();
      if (!tenant) throw notFound(tenantId);
      if (['OFFBOARDING', 'OFFBOARDED'].includes(tenant.status)) throw new ConflictError(`Tenant ${tenant.name} is ${tenant.status}: it can no longer change.`);

      // patchAndFetch updates the instance too: keep what the tenant was before the change. The
      // tier compared against is the one the tenant will run on once its queued tier changes are done.
      const before = { planId: tenant.planId, tier: await plannedTier(trx, tenant) };
      const planId = patch.plan ?? tenant.planId;
      const tierOverride = patch.tierOverride === undefined ? tenant.tierOverride : patch.tierOverride;
      const decision = this.decideTier({ plan: planId, requirements: tenant.requirements, ...(tierOverride ? { tierOverride } : {}) });
      const changes: Partial<Tenant> = { updatedAt: now, planId: decision.plan, tierOverride, tierReasons: [...decision.reasons] };
      if (patch.displayName) changes.displayName = patch.displayName;
      const updated = await tenant.$query(trx).patchAndFetch(changes);

      if (decision.plan !== before.planId) {
        await Subscription.query(trx).where({ tenant_id: tenantId }).whereNull('ended_at').patch({ endedAt: now });
        await this.startSubscription(trx, updated, decision, now);
      }
      let tierChange: TierChangeRequest | null = null;
      if (decision.tier !== before.tier) {
        tierChange = await TierChangeRequest.query(trx).insertAndFetch({
          id: randomUUID(),
          tenantId,
          fromTier: before.tier,
          toTier: decision.tier,
          reason: decision.reasons.join('; '),
          status: 'REQUESTED',
          createdAt: now,
        });
        await enqueueTierChange(trx, tierChange, now);
      }
      if (decision.plan !== before.planId || tierChange) {
        await recordEvent(trx, {
          type: 'tenant.plan_changed',
          tenantId,
          time: now,
          data: { fromPlan: before.planId, toPlan: decision.plan, tierChange: tierChange ? { from: tierChange.fromTier, to: tierChange.toTier } : null },
        });
      }
      return { tenant: toTenantView(updated), tierChange: tierChange ? toTierChangeView(tierChange) : null };
    });
  }

  /** Asks for the tenant to be offboarded: it becomes OFFBOARDING, and its offboarding workflow tears it down. */
  async requestOffboarding(principal: Principal, tenantId: string): Promise<TenantView> {
    if (principal.kind === 'tenant' && principal.role !== 'tenant-admin') throw new ForbiddenError('Only a tenant-admin can offboard the tenant.');
    if (principal.kind === 'platform' && principal.role !== 'platform-admin') throw new ForbiddenError('Only a platform-admin can offboard tenants.');
    const now = this.clock();
    return this.scoped(principal, async (trx) => {
      const tenant = await Tenant.query(trx).findById(tenantId);
      if (!tenant) throw notFound(tenantId);
      const offboarding = await transitionTenant(trx, tenantId, 'OFFBOARDING', 'offboarding requested', now);
      await enqueueOffboarding(trx, offboarding, 'offboarding requested', now);
      return toTenantView(offboarding);
    });
  }

  async history(principal: Principal, tenantId: string): Promise<{ items: { from: TenantStatus | null; to: TenantStatus; reason: string; at: string }[] }> {
    return this.scoped(principal, async (trx) => {
      if (!(await Tenant.query(trx).findById(tenantId))) throw notFound(tenantId);
      const changes = await TenantStatusChange.query(trx).where('tenant_id', tenantId).orderBy('id');
      return { items: changes.map((c) => ({ from: c.fromStatus, to: c.toStatus, reason: c.reason, at: c.changedAt.toISOString() })) };
    });
  }

  async listUsers(principal: Principal, tenantId: string): Promise<{ items: ReturnType<typeof toUserView>[] }> {
    return this.scoped(principal, async (trx) => {
      if (!(await Tenant.query(trx).findById(tenantId))) throw notFound(tenantId);
      const users = await TenantUser.query(trx).where('tenant_id', tenantId).orderBy('created_at');
      return { items: users.map(toUserView) };
    });
  }

  async addUser(principal: Principal, tenantId: string, request: UserCreate): Promise<ReturnType<typeof toUserView>> {
    if (principal.kind === 'tenant' && principal.role !== 'tenant-admin') throw new ForbiddenError('Only a tenant-admin can add users.');
    if (principal.kind === 'platform' && principal.role !== 'platform-admin') throw new ForbiddenError('Only a platform-admin or the tenant\'s admin can add users.');
    const now = this.clock();
    return this.scoped(principal, async (trx) => {
      const tenant = await Tenant.query(trx).findById(tenantId);
      if (!tenant) throw notFound(tenantId);
      if (['OFFBOARDING', 'OFFBOARDED'].includes(tenant.status)) throw new ConflictError(`Tenant ${tenant.name} is ${tenant.status}: it takes no new users.`);
      const users = await TenantUser.query(trx).where('tenant_id', tenantId).resultSize();
      const plan = await Plan.query(trx).findById(tenant.planId);
      if (plan && users >= plan.maxUsers) {
        throw new UnprocessableError(`The ${plan.displayName} plan allows ${plan.maxUsers} users and tenant ${tenant.name} has ${users}: change plan to add more.`);
      }
      return toUserView(await this.insertUser(trx, tenantId, request, now));
    });
  }

  private async insertUser(trx: Knex.Transaction, tenantId: string, request: UserCreate, now: Date): Promise<TenantUser> {
    try {
      const user = await TenantUser.query(trx).insertAndFetch({ id: randomUUID(), tenantId, email: request.email.toLowerCase(), role: request.role, createdAt: now });
      await recordEvent(trx, { type: 'user.created', tenantId, time: now, data: { userId: user.id, email: user.email, role: user.role } });
      return user;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`User ${request.email} already belongs to this tenant.`, { cause: error, errors: [{ in: 'body', pointer: '#/email', detail: 'is taken' }] });
      }
      throw error;
    }
  }

  /** Platform callers act as the platform; tenant callers inside their tenant's row-level security. */
  private scoped<T>(principal: Principal, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return principal.kind === 'tenant' ? this.db.asTenant(principal.tenantId, work) : this.db.asPlatform(work);
  }
}

function requirePlatform(principal: Principal, action: string): void {
  if (principal.kind !== 'platform') throw new ForbiddenError(`A ${principal.role} cannot ${action}: use a platform-admin or onboarding client token.`);
}

function notFound(tenantId: string): NotFoundError {
  return new NotFoundError(`No tenant ${tenantId} is visible to you.`);
}

export function toTenantView(tenant: Tenant): TenantView {
  return {
    id: tenant.id,
    name: tenant.name,
    displayName: tenant.displayName,
    plan: tenant.planId,
    tier: tenant.tier as TenantView['tier'],
    tierReasons: tenant.tierReasons,
    requirements: tenant.requirements,
    tierOverride: tenant.tierOverride,
    status: tenant.status,
    createdAt: new Date(tenant.createdAt).toISOString(),
    updatedAt: new Date(tenant.updatedAt).toISOString(),
  };
}

function toTierChangeView(change: TierChangeRequest) {
  return { id: change.id, from: change.fromTier as TenantView['tier'], to: change.toTier as TenantView['tier'], status: change.status, reason: change.reason };
}

function toUserView(user: TenantUser) {
  return { id: user.id, tenantId: user.tenantId, email: user.email, role: user.role, createdAt: new Date(user.createdAt).toISOString() };
}

function encodeCursor(tenant: Tenant): string {
  return Buffer.from(JSON.stringify({ c: new Date(tenant.createdAt).toISOString(), i: tenant.id })).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const { c, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { c: unknown; i: unknown };
    if (typeof c === 'string' && !Number.isNaN(Date.parse(c)) && typeof i === 'string' && /^[0-9a-f-]{36}$/i.test(i)) return { createdAt: c, id: i };
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError('The cursor is not one this API returned: pass nextCursor from the previous page unchanged.', { errors: [{ in: 'query', pointer: '#/cursor', detail: 'is not a valid cursor' }] });
}

