export { TenantResource, RESOURCE_KINDS, type ResourceKind } from './tenant-resource.js';
export { Workflow, WORKFLOW_KINDS, WORKFLOW_STATUSES, type WorkflowInput, type WorkflowKind, type WorkflowStatus } from './workflow.js';
export { STEP_STATUSES, WorkflowStep, type StepState, type StepStatus } from './workflow-step.js';
