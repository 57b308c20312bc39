import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/database.js';
import { BACKENDS, createTestDatabase, dropTestDatabase } from '../testing/databases.js';
import { IdempotencyKeySettingsError, IdempotencyKeySweeper } from './idempotency-keys.js';
import { TenantService } from './tenant-service.js';

const onboarding: Principal = { kind: 'platform', subject: 'signup-flow', role: 'onboarding' };
const HOUR = 3_600_000;

/** A clock the test moves by hand. */
function manualClock(start: Date): { now: () => Date; advance: (ms: number) => void } {
  let at = start.getTime();
  return { now: () => new Date(at), advance: (ms) => (at += ms) };
}

describe.each(BACKENDS)('Idempotency-Key retention on %s', (backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
    await new TenantService(db).syncPlans();
  });
  afterAll(async () => {
    await dropTestDatabase(db);
  });

  const request = () => ({ name: `keys-${randomUUID().slice(0, 8)}`, plan: 'basic', adminEmail: 'admin@example.com' });

  it('replays within the retention, and starts a new request with the same key after it', async () => {
    const clock = manualClock(new Date('2026-01-01T00:00:00.000Z'));
    const service = new TenantService(db, { clock: clock.now, idempotencyKeyRetentionMs: 24 * HOUR });
    const key = randomUUID();
    const body = request();
    const first = await service.register(onboarding, key, body);

    clock.advance(23 * HOUR);
    expect(await service.register(onboarding, key, body)).toMatchObject({ replayed: true, tenant: { id: first.tenant.id } });

    // After the retention the key is free: another body is a new request, not a mismatch.
    clock.advance(2 * HOUR);
    const otherBody = request();
    const later = await service.register(onboarding, key, otherBody);
    expect(later.replayed).toBe(false);
    expect(later.tenant.id).not.toBe(first.tenant.id);
    // The key now holds the new answer for another retention.
    expect(await service.register(onboarding, key, otherBody)).toMatchObject({ replayed: true, tenant: { id: later.tenant.id } });
  });

  it('the sweeper deletes only the keys past the retention, a batch at a time', async () => {
    const start = new Date('2026-02-01T00:00:00.000Z');
    const clock = manualClock(start);
    const service = new TenantService(db, { clock: clock.now });
    await db.knex('idempotency_keys').delete();
    for (let i = 0; i < 5; i += 1) await service.register(onboarding, `old-${i}`, request());
    clock.advance(20 * HOUR);
    for (let i = 0; i < 3; i += 1) await service.register(onboarding, `recent-${i}`, request());
    clock.advance(5 * HOUR);

    const sweeper = new IdempotencyKeySweeper({ db, clock: clock.now, batchSize: 2 });
    expect(await sweeper.sweep()).toBe(5);
    const left = await db.knex('idempotency_keys').select('key').orderBy('key');
    expect(left.map((row: { key: string }) => row.key)).toEqual(['recent-0', 'recent-1', 'recent-2']);
    expect(await sweeper.sweep()).toBe(0);
  });

  it('refuses a retention under a minute and a batch size out of range', () => {
    expect(() => new TenantService(db, { idempotencyKeyRetentionMs: 1000 })).toThrow(IdempotencyKeySettingsError);
    expect(() => new IdempotencyKeySweeper({ db, batchSize: 0 })).toThrow(/batchSize must be an integer from 1 to 10000/);
  });
});
