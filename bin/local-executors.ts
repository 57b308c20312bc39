import type { Logger } from 'pino';
import { activeTenants, type Database } from '../control-plane/index.js';
import { JobExecutor, placementFor, type JobRepository } from '../data-plane/index.js';

export interface LocalExecutorsProps {
  readonly db: Database;
  readonly repository: JobRepository;
  /** Simulated time per real time: 0.05 runs a 20 s step in 1 s. */
  readonly timeScale: number;
  /** @default 2000 */
  readonly scanIntervalMs?: number;
  readonly logger: Logger;
}

/**
 * The local stand-in for the executor Deployment of every tenant's chart: one executor per ACTIVE tenant,
 * claiming the jobs of that tenant's placement. On AWS the Deployment in the tenant's namespace (or
 * account) runs `runExecutor` instead.
 */
export function startLocalExecutors(props: LocalExecutorsProps): { stop(): Promise<void> } {
  const running = new Map<string, JobExecutor>();
  let stopped = false;
  const scan = async () => {
    for (const tenant of await activeTenants(props.db)) {
      const placementKey = placementFor(tenant.tier, tenant.name).key;
      if (running.has(placementKey)) continue;
      const executor = new JobExecutor({ repository: props.repository, placementKey, timeScale: props.timeScale, logger: props.logger.child({ tenant: tenant.name }) });
      executor.start();
      running.set(placementKey, executor);
      props.logger.info({ tenant: tenant.name, placementKey }, 'local executor started');
    }
  };
  const timer = setInterval(() => {
    if (!stopped) scan().catch((error: unknown) => props.logger.error({ err: error }, 'local executors: scan failed'));
  }, props.scanIntervalMs ?? 2000);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...running.values()].map((executor) => executor.stop()));
    },
  };
}
