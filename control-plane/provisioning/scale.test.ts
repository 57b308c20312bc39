import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIER_NAMES } from '../../tenant-tiers/index.js';
import { BACKENDS } from '../testing/databases.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { Workflow } from './models/index.js';
import type { AccountProvider } from './providers.js';
import { reconcile } from './reconciler.js';
import { bindMethods } from './testing/fakes.js';
import { startHarness, type Harness } from './testing/harness.js';

describe.each(BACKENDS)('provisioning on %s', (backend) => {
  describe('at scale', () => {
    let scale: Harness;
    beforeAll(async () => {
      // Creations that take a while, so many overlap and the in-flight limit matters.
      scale = await startHarness(backend, { accountDelayMs: 50, stackDelayMs: 10 });
    });
    afterAll(async () => {
      await scale?.close();
    });

    it('brings 100 tenants registered at once across the tiers to ACTIVE with three worker processes', async () => {
      const inFlight = new Set<string>();
      let maxInFlight = 0;
      const accounts = scale.providers.accounts;
      const watched: AccountProvider = {
        ...bindMethods(accounts),
        async startAccountCreation(request) {
          const started = await accounts.startAccountCreation(request);
          if ('requestId' in started) inFlight.add(started.requestId);
          maxInFlight = Math.max(maxInFlight, inFlight.size);
          return started;
        },
        async accountCreationStatus(requestId) {
          const status = await accounts.accountCreationStatus(requestId);
          if (status.state !== 'IN_PROGRESS') inFlight.delete(requestId);
          return status;
        },
      };
      const processes = [1, 2, 3].map((i) => scale.workers({ providers: { ...scale.providers, accounts: watched }, concurrency: 4, workerId: `process-${i}`, pollIntervalMs: 20, idleMs: 50 }));
      const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => scale.register(TIER_NAMES[i % TIER_NAMES.length] ?? 'pool')));
      await scale.until(
        'all 100 tenants are ACTIVE',
        async () => {
          const failed = await Workflow.query(scale.db.knex).whereIn('tenant_id', ids).where('status', 'FAILED').first();
          if (failed) throw new Error(`A workflow failed: ${failed.error ?? ''}`);
          const active = await Tenant.query(scale.db.knex).whereIn('id', ids).where('status', 'ACTIVE').resultSize();
          return active === ids.length;
        },
        120_000,
      );
      await Promise.all(processes.map((p) => p.stop()));
      expect(maxInFlight).toBeLessThanOrEqual(5);
      expect(maxInFlight).toBeGreaterThan(1);
      const workflows = await Workflow.query(scale.db.knex).whereIn('tenant_id', ids);
      expect(workflows.map((w) => w.status)).toEqual(Array(100).fill('SUCCEEDED'));
      const report = await reconcile({ db: scale.db, providers: scale.providers });
      expect(report.drift).toEqual([]);
    }, 180_000);
  });
});
