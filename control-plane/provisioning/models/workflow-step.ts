import { BaseModel } from '../../tenant-manager/models/base-model.js';

/** PENDING: not started (or waiting for its retry); RUNNING: started, possibly between polls; SUCCEEDED; FAILED. */
export const STEP_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** What a step learnt from the outside so far; read back on its next run. */
export type StepState = Record<string, unknown>;

/** One step of a workflow, with what it learnt, its attempts and its lease. */
export class WorkflowStep extends BaseModel {
  static override tableName = 'workflow_steps';
  static override get idColumn() {
    return ['workflow_id', 'position'];
  }

  workflowId!: string;
  position!: number;
  tenantId!: string;
  name!: string;
  status!: StepStatus;
  state!: StepState;
  attempts!: number;
  lastError!: string | null;
  /** When the step runs next; null before the workflow reaches it. */
  nextAttemptAt!: Date | null;
  lockedBy!: string | null;
  lockedUntil!: Date | null;
  updatedAt!: Date;

  static override get jsonAttributes() {
    return ['state'];
  }
}
