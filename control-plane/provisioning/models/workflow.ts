import { BaseModel } from '../../tenant-manager/models/base-model.js';

export const WORKFLOW_KINDS = ['onboard', 'change_tier', 'offboard'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/**
 * PENDING: waiting for its first step to be claimed; RUNNING; SUCCEEDED; FAILED: a step gave up
 * (retry resets it); CANCELLED: superseded by an offboarding before it finished.
 */
export const WORKFLOW_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** What a workflow was asked to do. */
export interface WorkflowInput {
  /** change_tier: the tier the tenant runs on when the workflow starts, and the one it moves to. */
  readonly fromTier?: string;
  readonly toTier?: string;
  /** change_tier: the tier_change_requests row the workflow carries out. */
  readonly tierChangeRequestId?: string;
  /** offboard: why the tenant leaves. */
  readonly reason?: string;
}

/** One tenant operation: onboarding, a tier change or offboarding. */
export class Workflow extends BaseModel {
  static override tableName = 'workflows';

  id!: string;
  seq!: string;
  tenantId!: string;
  kind!: WorkflowKind;
  status!: WorkflowStatus;
  input!: WorkflowInput;
  currentStep!: number;
  stepCount!: number;
  error!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
  startedAt!: Date | null;
  finishedAt!: Date | null;

  static override get jsonAttributes() {
    return ['input'];
  }
}
