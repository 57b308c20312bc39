/**
 * Field schemas shared by the data schemas of several event types. Each one says what it holds
 * (`description` ends up in the published JSON Schemas) and is as narrow as the producers allow.
 */
import { z } from 'zod';
import { PLAN_NAMES, TIER_NAMES } from '../../tenant-tiers/index.js';

/** A UUID in canonical lower-case form, as `crypto.randomUUID()` writes it. */
export const LOWER_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An id the kit generates (tenants, users, jobs, datasets): a lower-case UUID. Upper case is
 * refused rather than folded, because the tenant id is also the Kinesis partition key and the
 * aggregation key: two spellings of one tenant would split its numbers.
 */
export const Id = z.string().regex(LOWER_CASE_UUID).meta({ format: 'uuid', description: 'A lower-case UUID.' });

/** A count of bytes. */
export const Bytes = z.int().nonnegative().meta({ description: 'A number of bytes.' });

/** A length of time in whole milliseconds. */
export const Milliseconds = z.int().nonnegative().meta({ description: 'Milliseconds.' });

/** vCPU time in whole vCPU-milliseconds (vCPUs x milliseconds): integers, so sums over millions of events are exact. */
export const VcpuMilliseconds = z.int().nonnegative().meta({ description: 'vCPU-milliseconds: vCPUs used times milliseconds, summed over the job.' });

/**
 * A plan name. Producers may hand in any string (the control plane types plans as strings), the
 * check is at run time, and readers get `PlanName`.
 */
export const PlanName = z
  .string()
  .pipe(z.enum(PLAN_NAMES))
  .meta({ description: `A plan of the plan catalog (tenant-tiers): ${PLAN_NAMES.join(', ')}.` });

/** A tier name; like `PlanName`, a string in, a `TierName` out. */
export const TierName = z
  .string()
  .pipe(z.enum(TIER_NAMES))
  .meta({ description: `A tier of the TIERS table (tenant-tiers): ${TIER_NAMES.join(', ')}.` });

/**
 * A tenant status. The control plane owns the list (PENDING, PROVISIONING, ACTIVE, FAILED,
 * SUSPENDED, OFFBOARDING, OFFBOARDED) and data-plane may not import it, so the catalog checks the
 * form only: a status added there needs no new event version.
 */
export const TenantStatus = z
  .string()
  .regex(/^[A-Z][A-Z_]{0,31}$/)
  .meta({ description: 'A tenant status of the control plane in upper case, e.g. PENDING, ACTIVE, SUSPENDED, OFFBOARDED.' });

/** A user role of the control plane (tenant-admin, tenant-user); the form only, like `TenantStatus`. */
export const UserRole = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/)
  .meta({ description: 'A user role of the control plane in lower case, e.g. tenant-admin, tenant-user.' });

/** Free text written for people (reasons, messages). */
export const Text = z.string().min(1).max(1024);

/** An RFC 3339 timestamp with a time zone (`Z` or an offset). */
export const Timestamp = z.iso.datetime({ offset: true }).meta({ description: 'An RFC 3339 timestamp.' });
