import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import stringify from 'safe-stable-stringify';
import { ProvisioningConfigError } from '../../errors.js';
import type { OperationStatus, StackDeployer, StackDeployment } from '../../providers.js';
import { Mutex, readJson, writeJson } from './files.js';

export interface LocalStackDeployerProps {
  /** Stacks are kept as `<dataDir>/stacks/<name>.json` (`<dataDir>/stacks/<account>/<name>.json` in a tenant's account). */
  readonly dataDir: string;
  /**
   * How long a creation, update or deletion stays IN_PROGRESS.
   * @default 1000
   */
  readonly delayMs?: number;
  /**
   * Stacks whose deployments fail (and roll back), with the failing resource's reason.
   * @default - none
   */
  readonly failures?: Readonly<Record<string, string>>;
  /** @default - the system clock */
  readonly clock?: () => Date;
}

type StackLocation = { readonly stackName: string; readonly accountId?: string; readonly region: string };

interface StackRecord {
  readonly stackName: string;
  readonly accountId: string | null;
  readonly region: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly templateHash: string;
  readonly template: Readonly<Record<string, unknown>>;
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly startedAt: string;
  readonly completesAt: string;
  /** Set when the operation fails: the stack rolls back to its previous state. */
  readonly failure: string | null;
  readonly outputs: Readonly<Record<string, string>>;
}

/**
 * CloudFormation, simulated: a deployment writes the synthesized template and its outputs to a
 * JSON file, IN_PROGRESS for `delayMs` and then complete (or rolled back, for a stack given in
 * `failures`). Deploying the same template again changes nothing.
 */
export class LocalStackDeployer implements StackDeployer {
  private readonly mutex = new Mutex();
  private readonly delayMs: number;
  private readonly failures: Map<string, string>;
  private readonly clock: () => Date;
  private readonly creations = new Map<string, number>();

  constructor(private readonly props: LocalStackDeployerProps) {
    this.delayMs = props.delayMs ?? 1000;
    if (!(this.delayMs >= 0)) throw new ProvisioningConfigError(`LocalStackDeployer delayMs must be 0 or more; received ${this.delayMs}.`);
    this.failures = new Map(Object.entries(props.failures ?? {}));
    this.clock = props.clock ?? (() => new Date());
  }

  /** From now on, deployments of `stackName` fail with `reason`. */
  failDeploymentsOf(stackName: string, reason: string): void {
    this.failures.set(stackName, reason);
  }

  stopFailing(stackName: string): void {
    this.failures.delete(stackName);
  }

  /** How many times this deployer created `stackName` from nothing (tests count duplicates). */
  creationsOf(stack: StackLocation): number {
    return this.creations.get(this.fileOf(stack)) ?? 0;
  }

  /** The file a stack is kept in. */
  fileOf(stack: StackLocation): string {
    return join(this.props.dataDir, 'stacks', ...(stack.accountId ? [stack.accountId] : []), `${stack.stackName}.json`);
  }

  startDeployment(deployment: StackDeployment): Promise<void> {
    const file = this.fileOf(deployment);
    return this.mutex.run(async () => {
      const current = await this.settled(file);
      const templateHash = createHash('sha256').update(stringify(deployment.template) ?? '').digest('hex');
      const live = current && current.operation !== 'DELETE';
      // The same template again (a retry, or a crash before the start was recorded): nothing to do.
      if (live && current.templateHash === templateHash && current.failure === null) return;
      const now = this.clock();
      const operation = live && !(current.operation === 'CREATE' && current.failure !== null) ? 'UPDATE' : 'CREATE';
      if (operation === 'CREATE') this.creations.set(file, (this.creations.get(file) ?? 0) + 1);
      await writeJson(file, {
        stackName: deployment.stackName,
        accountId: deployment.accountId ?? null,
        region: deployment.region,
        tags: deployment.tags,
        templateHash,
        template: deployment.template,
        operation,
        startedAt: now.toISOString(),
        completesAt: new Date(now.getTime() + this.delayMs).toISOString(),
        failure: this.failures.get(deployment.stackName) ?? null,
        outputs: operation === 'UPDATE' ? (current?.outputs ?? {}) : {},
      } satisfies StackRecord);
    });
  }

  deploymentStatus(stack: StackLocation): Promise<OperationStatus<{ readonly outputs: Readonly<Record<string, string>> }>> {
    return this.mutex.run(async () => {
      const record = await this.settled(this.fileOf(stack));
      if (!record || record.operation === 'DELETE') return { state: 'FAILED', reason: `Stack ${stack.stackName} does not exist.` };
      if (Date.parse(record.completesAt) > this.clock().getTime()) return { state: 'IN_PROGRESS' };
      if (record.failure !== null) return { state: 'FAILED', reason: `${record.operation === 'CREATE' ? 'ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE'}: ${record.failure}` };
      return { state: 'SUCCEEDED', result: { outputs: record.outputs } };
    });
  }

  startDeletion(stack: StackLocation): Promise<void> {
    const file = this.fileOf(stack);
    return this.mutex.run(async () => {
      const record = await this.settled(file);
      if (!record || record.operation === 'DELETE') return;
      const now = this.clock();
      await writeJson(file, { ...record, operation: 'DELETE', failure: null, startedAt: now.toISOString(), completesAt: new Date(now.getTime() + this.delayMs).toISOString() } satisfies StackRecord);
    });
  }

  deletionStatus(stack: StackLocation): Promise<OperationStatus<null>> {
    return this.mutex.run(async () => {
      const record = await this.settled(this.fileOf(stack));
      if (!record) return { state: 'SUCCEEDED', result: null };
      if (record.operation !== 'DELETE') return { state: 'FAILED', reason: `Stack ${stack.stackName} exists and no deletion of it was started.` };
      return { state: 'IN_PROGRESS' };
    });
  }

  stackExists(stack: StackLocation): Promise<boolean> {
    return this.mutex.run(async () => {
      const record = await this.settled(this.fileOf(stack));
      // A stack being deleted still exists; a creation rolled back leaves a ROLLBACK_COMPLETE stack, which exists too.
      return record !== undefined;
    });
  }

  /** The stack's record once the operation due by now has completed: outputs written, or the file gone after a deletion. */
  private async settled(file: string): Promise<StackRecord | undefined> {
    const record = await readJson<StackRecord>(file);
    if (!record || Date.parse(record.completesAt) > this.clock().getTime()) return record;
    if (record.operation === 'DELETE') {
      await rm(file, { force: true });
      return undefined;
    }
    if (record.failure === null && Object.keys(record.outputs).length === 0 && hasOutputs(record.template)) {
      const completed = { ...record, outputs: outputsOf(record) };
      await writeJson(file, completed);
      return completed;
    }
    return record;
  }
}

function hasOutputs(template: Readonly<Record<string, unknown>>): boolean {
  return typeof template.Outputs === 'object' && template.Outputs !== null && Object.keys(template.Outputs).length > 0;
}

/**
 * The stack's outputs as CloudFormation would report them: literal values as they are; values
 * CloudFormation would resolve (Ref, Fn::GetAtt, ...) as a stand-in naming the stack and output.
 */
function outputsOf(record: StackRecord): Record<string, string> {
  const outputs = (record.template.Outputs ?? {}) as Record<string, { Value?: unknown }>;
  return Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, typeof output.Value === 'string' ? output.Value : `local:${record.stackName}:${key}`]));
}
