import { z } from 'zod';
import { STEP_STATUSES, WORKFLOW_KINDS, WORKFLOW_STATUSES } from './models/index.js';

/** Response schemas of the provisioning routes (they generate /openapi.json). */

export const WorkflowStepView = z
  .object({
    position: z.number().int(),
    name: z.string(),
    status: z.enum(STEP_STATUSES),
    attempts: z.number().int().meta({ description: 'Failed tries so far; polls of an outside operation do not count.' }),
    lastError: z.string().nullable(),
    nextAttemptAt: z.iso.datetime().nullable().meta({ description: 'When the step runs next; null before the workflow reaches it.' }),
    state: z.record(z.string(), z.unknown()).meta({ description: 'What the step learnt from the outside (request ids, account id, stack name, the offboarding manifest).' }),
  })
  .meta({ id: 'ProvisioningStep' });

export const WorkflowView = z
  .object({
    id: z.uuid(),
    kind: z.enum(WORKFLOW_KINDS),
    status: z.enum(WORKFLOW_STATUSES),
    input: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    steps: z.array(WorkflowStepView),
  })
  .meta({ id: 'ProvisioningWorkflow' });

export const WorkflowList = z.object({ items: z.array(WorkflowView) }).meta({ id: 'ProvisioningWorkflowList' });
