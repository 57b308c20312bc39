import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ProvisioningConfigError } from './errors.js';
import { WorkflowEngine } from './engine.js';
import type { WorkerOptions } from './options.js';

export interface ProvisioningWorkers {
  /** Stops claiming work and waits for the steps being run to be recorded. */
  stop(): Promise<void>;
}

/**
 * Starts `concurrency` loops that claim due steps and run them. Idle loops look again after
 * `idleMs`. Several processes may run workers against the same database: leases and
 * `FOR UPDATE SKIP LOCKED` share the work, and a step whose worker died is taken over when its
 * lease ends.
 */
export function startProvisioningWorkers(options: WorkerOptions): ProvisioningWorkers {
  const concurrency = options.concurrency ?? 4;
  const idleMs = options.idleMs ?? 1000;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ProvisioningConfigError(`concurrency must be a whole number of 1 or more; received ${concurrency}.`);
  if (!(idleMs >= 0)) throw new ProvisioningConfigError(`idleMs must be 0 or more; received ${idleMs}.`);
  const engine = new WorkflowEngine(options.db, options);
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const logger = options.logger.child({ component: 'provisioning', workerId });

  let running = true;
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  // When one loop finds nothing due, the others would not either: they all wait, so an idle
  // process does not keep the database busy with claim queries (PGlite has one connection).
  let idleUntil = 0;

  async function loop(index: number): Promise<void> {
    const id = `${workerId}#${index}`;
    while (running) {
      const wait = idleUntil - Date.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      let result: Awaited<ReturnType<WorkflowEngine['runNext']>> = null;
      try {
        result = await engine.runNext(id);
        if (result === 'failed' || result === 'retry') logger.warn({ result }, 'provisioning step failed');
      } catch (error) {
        // The database is unreachable or a query failed: leases keep the work safe; try again later.
        logger.error({ err: error }, 'provisioning worker could not claim or record a step');
      }
      if (result === null) idleUntil = Math.max(idleUntil, Date.now() + idleMs);
    }
  }

  const loops = Array.from({ length: concurrency }, (_, index) => loop(index));
  logger.info({ concurrency }, 'provisioning workers started');
  return {
    async stop() {
      running = false;
      for (const wake of [...sleepers]) wake();
      await Promise.all(loops);
      logger.info('provisioning workers stopped');
    },
  };
}
