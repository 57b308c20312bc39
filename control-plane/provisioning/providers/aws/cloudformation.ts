import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListChangeSetsCommand,
  type Capability,
  type CloudFormationClient,
  type DescribeChangeSetCommandOutput,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';

import type { OperationStatus, StackDeployer, StackDeployment } from '../../providers.js';
import { ProviderBusyError, ProviderConfigurationError, ProviderRejectedError } from './errors.js';
import { call, errorMessage, fromSdkError, isNamed } from './sdk-errors.js';

/** Where a stack lives: `accountId` undefined is the platform account (the credentials' own). */
export interface CloudFormationTarget {
  readonly accountId: string | undefined;
  readonly region: string;
}

/**
 * Gives the CloudFormation client for an account and region. For a tenant's own account (silo) it
 * must sign with credentials of that account, typically by assuming the role Organizations created
 * there (`OrganizationAccountAccessRole`) through STS. Called on every operation: cache clients in it.
 */
export type CloudFormationClientFactory = (target: CloudFormationTarget) => CloudFormationClient;

/** Stores a template too large for TemplateBody where CloudFormation can read it. */
export interface TemplateUploader {
  /** Uploads `body` (a JSON template) and returns its `https://` URL, an S3 object in `region` readable by the deploying credentials. */
  upload(template: { readonly key: string; readonly body: string; readonly accountId: string | undefined; readonly region: string }): Promise<string>;
}

export interface CloudFormationStackDeployerProps {
  /** The CloudFormation client per account and region. */
  readonly clients: CloudFormationClientFactory;
  /**
   * Where templates over 51,200 bytes (CloudFormation's TemplateBody limit) are uploaded, to be passed as TemplateURL.
   * @default - such templates are refused with a ProviderConfigurationError
   */
  readonly uploader?: TemplateUploader;
  /**
   * The service role CloudFormation assumes to create, update and delete the stack's resources
   * (passed as RoleARN), so the deployer's own credentials need only CloudFormation and iam:PassRole.
   * @default - CloudFormation acts with the deployer's own credentials
   */
  readonly serviceRoleArn?: (target: CloudFormationTarget) => string;
  /**
   * Capabilities acknowledged on every change set.
   * @default ['CAPABILITY_NAMED_IAM'] (tenant stacks name their IAM roles)
   */
  readonly capabilities?: readonly Capability[];
  /**
   * Pause between two polls while `startDeployment` waits for a change set to be created, or for a failed first creation to be deleted.
   * @default 5000
   */
  readonly pollIntervalMs?: number;
  /**
   * How long `startDeployment` waits for either before it throws a retryable ProviderBusyError (the next call resumes the wait).
   * @default 300000 (5 minutes)
   */
  readonly waitTimeoutMs?: number;
}

type StackRef = { readonly stackName: string; readonly accountId?: string; readonly region: string };

const SERVICE = 'CloudFormation';
/** CloudFormation's limit on TemplateBody; larger templates go through S3 (TemplateURL). */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_ID = /^\d{12}$/;
const NO_CHANGES = /didn't contain changes|No updates are to be performed/;
/** Stack states that need an operator (ContinueUpdateRollback, or a deletion retaining the stuck resources). */
const STUCK = new Set(['ROLLBACK_FAILED', 'DELETE_FAILED', 'UPDATE_ROLLBACK_FAILED', 'IMPORT_ROLLBACK_FAILED', 'UPDATE_FAILED', 'CREATE_FAILED']);
const SUCCEEDED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);
const ROLLED_BACK = new Set(['ROLLBACK_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);
/** The stack's own events that open an operation: failures older than these belong to an earlier one. */
const OPERATION_START = new Set(['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'DELETE_IN_PROGRESS']);
const MAX_EVENT_PAGES = 20;

/**
 * Deploys tenant stacks with CloudFormation change sets. A change set is named from the template's
 * hash, so a second `startDeployment` with the same template finds the first one's change set and
 * carries on from where it stopped (creating, ready to execute, executing, done).
 */
export class CloudFormationStackDeployer implements StackDeployer {
  private readonly clients: CloudFormationClientFactory;
  private readonly uploader: TemplateUploader | undefined;
  private readonly serviceRoleArn: ((target: CloudFormationTarget) => string) | undefined;
  private readonly capabilities: readonly Capability[];
  private readonly pollIntervalMs: number;
  private readonly waitTimeoutMs: number;

  constructor(props: CloudFormationStackDeployerProps) {
    const pollIntervalMs = props.pollIntervalMs ?? 5000;
    const waitTimeoutMs = props.waitTimeoutMs ?? 300_000;
    for (const [name, value] of [
      ['pollIntervalMs', pollIntervalMs],
      ['waitTimeoutMs', waitTimeoutMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new ProviderConfigurationError(`CloudFormationStackDeployer: ${name} must be a number of milliseconds >= 0, received ${value}.`);
      }
    }
    this.clients = props.clients;
    this.uploader = props.uploader;
    this.serviceRoleArn = props.serviceRoleArn;
    this.capabilities = props.capabilities ?? ['CAPABILITY_NAMED_IAM'];
    this.pollIntervalMs = pollIntervalMs;
    this.waitTimeoutMs = waitTimeoutMs;
  }

  async startDeployment(deployment: StackDeployment): Promise<void> {
    const client = this.clientFor(deployment);
    const { stackName } = deployment;
    const body = JSON.stringify(deployment.template);
    const changeSetName = `saas-kit-${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;

    const stack = await describeStack(client, stackName);
    let changeSetType: 'CREATE' | 'UPDATE' = 'UPDATE';
    const status = stack?.StackStatus;
    /** Whether no stack, and so no change set, exists now. */
    let absent = status === undefined;
    if (status === undefined || status === 'REVIEW_IN_PROGRESS') {
      // REVIEW_IN_PROGRESS: a first attempt made the change set (and so the empty stack) and stopped before executing it.
      changeSetType = 'CREATE';
    } else if (status === 'ROLLBACK_COMPLETE') {
      // A failed first creation: such a stack can only be deleted, then created again.
      await this.deleteAndWait(client, stackName, this.roleFor(deployment));
      changeSetType = 'CREATE';
      absent = true;
    } else if (STUCK.has(status)) {
      throw new ProviderRejectedError(
        `Stack ${stackName} is ${status}: ${stack?.StackStatusReason ?? 'no reason given'}. An operator must repair it first (continue the update rollback, or delete the stack retaining the stuck resources).`,
      );
    } else if (status.endsWith('_IN_PROGRESS')) {
      const ours = await describeChangeSet(client, stackName, changeSetName);
      if (ours?.ExecutionStatus === 'EXECUTE_IN_PROGRESS' || ours?.ExecutionStatus === 'EXECUTE_COMPLETE') {
        return; // This template is being deployed (or cleaned up after) by an earlier call.
      }
      throw new ProviderBusyError(`Stack ${stackName} is ${status} by another operation; deploy again when it has finished.`);
    }

    let changeSet = absent ? undefined : await describeChangeSet(client, stackName, changeSetName);
    if (changeSet?.ExecutionStatus === 'EXECUTE_IN_PROGRESS' || changeSet?.ExecutionStatus === 'EXECUTE_COMPLETE') {
      return; // Executed by an earlier call: deploymentStatus follows it.
    }
    if (changeSet !== undefined && (changeSet.Status === 'FAILED' || changeSet.ExecutionStatus === 'EXECUTE_FAILED' || changeSet.ExecutionStatus === 'OBSOLETE')) {
      await deleteChangeSet(client, stackName, changeSetName);
      if (changeSet.Status === 'FAILED' && NO_CHANGES.test(changeSet.StatusReason ?? '')) {
        return; // An earlier call found the template equal to the deployed one, and crashed before deleting the change set.
      }
      changeSet = undefined; // A failed earlier try of this template: start it afresh.
    }
    if (changeSet === undefined) {
      await this.createChangeSet(client, deployment, body, changeSetName, changeSetType);
    }

    const ready = await this.waitForChangeSet(client, stackName, changeSetName);
    if (ready.Status === 'FAILED') {
      await deleteChangeSet(client, stackName, changeSetName);
      if (NO_CHANGES.test(ready.StatusReason ?? '')) {
        return; // The template equals the deployed one.
      }
      throw new ProviderRejectedError(`CloudFormation could not create change set ${changeSetName} of stack ${stackName}: ${ready.StatusReason ?? 'no reason given'}`);
    }

    try {
      await client.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
    } catch (error) {
      if (isNamed(error, 'InvalidChangeSetStatusException')) {
        const now = await describeChangeSet(client, stackName, changeSetName);
        if (now?.ExecutionStatus === 'EXECUTE_IN_PROGRESS' || now?.ExecutionStatus === 'EXECUTE_COMPLETE') {
          return; // Executed meanwhile by a concurrent call.
        }
      }
      throw stackError(error, 'ExecuteChangeSet', stackName);
    }
  }

  async deploymentStatus(stack: StackRef): Promise<OperationStatus<{ readonly outputs: Readonly<Record<string, string>> }>> {
    const client = this.clientFor(stack);
    const described = await describeStack(client, stack.stackName);
    const status = described?.StackStatus;
    if (described === undefined || status === undefined) {
      return { state: 'FAILED', reason: `Stack ${stack.stackName} does not exist in ${where(stack)}.` };
    }
    if (SUCCEEDED.has(status)) {
      const outputs: Record<string, string> = {};
      for (const output of described.Outputs ?? []) {
        if (output.OutputKey !== undefined && output.OutputValue !== undefined) {
          outputs[output.OutputKey] = output.OutputValue;
        }
      }
      return { state: 'SUCCEEDED', result: { outputs } };
    }
    if (status === 'REVIEW_IN_PROGRESS') {
      // Only a change set, not executed: in progress if one is executing, else nothing will ever move it.
      const executing = await this.hasExecutingChangeSet(client, stack.stackName);
      return executing
        ? { state: 'IN_PROGRESS' }
        : { state: 'FAILED', reason: `Stack ${stack.stackName} is REVIEW_IN_PROGRESS with no change set executing; start the deployment again.` };
    }
    if (status.endsWith('_IN_PROGRESS')) {
      return { state: 'IN_PROGRESS' };
    }
    if (ROLLED_BACK.has(status) || status.endsWith('_FAILED')) {
      return { state: 'FAILED', reason: await failureReason(client, described) };
    }
    return { state: 'FAILED', reason: `Stack ${stack.stackName} is ${status}.` };
  }

  async startDeletion(stack: StackRef): Promise<void> {
    const client = this.clientFor(stack);
    await deleteStack(client, stack.stackName, this.roleFor(stack));
  }

  async deletionStatus(stack: StackRef): Promise<OperationStatus<null>> {
    const client = this.clientFor(stack);
    const described = await describeStack(client, stack.stackName);
    const status = described?.StackStatus;
    if (described === undefined || status === undefined || status === 'DELETE_COMPLETE') {
      return { state: 'SUCCEEDED', result: null };
    }
    if (status === 'DELETE_IN_PROGRESS') {
      return { state: 'IN_PROGRESS' };
    }
    if (status === 'DELETE_FAILED') {
      return { state: 'FAILED', reason: await failureReason(client, described) };
    }
    return { state: 'FAILED', reason: `Stack ${stack.stackName} is ${status}, not being deleted; start its deletion again.` };
  }

  async stackExists(stack: StackRef): Promise<boolean> {
    const described = await describeStack(this.clientFor(stack), stack.stackName);
    return described !== undefined && described.StackStatus !== 'DELETE_COMPLETE';
  }

  private clientFor(stack: StackRef): CloudFormationClient {
    if (!STACK_NAME.test(stack.stackName)) {
      throw new ProviderConfigurationError(
        `CloudFormation stack names are 1 to 128 letters, digits and hyphens starting with a letter, received ${JSON.stringify(stack.stackName)}.`,
      );
    }
    if (!REGION.test(stack.region)) {
      throw new ProviderConfigurationError(`region must be an AWS region such as eu-central-1, received ${JSON.stringify(stack.region)}.`);
    }
    if (stack.accountId !== undefined && !ACCOUNT_ID.test(stack.accountId)) {
      throw new ProviderConfigurationError(`accountId must be 12 digits, received ${JSON.stringify(stack.accountId)}.`);
    }
    return this.clients({ accountId: stack.accountId, region: stack.region });
  }

  private roleFor(stack: StackRef): { RoleARN?: string } {
    if (this.serviceRoleArn === undefined) {
      return {};
    }
    const roleArn = this.serviceRoleArn({ accountId: stack.accountId, region: stack.region });
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+/.test(roleArn)) {
      throw new ProviderConfigurationError(`serviceRoleArn must give an IAM role ARN, received ${JSON.stringify(roleArn)} for ${where(stack)}.`);
    }
    return { RoleARN: roleArn };
  }

  private async createChangeSet(
    client: CloudFormationClient,
    deployment: StackDeployment,
    body: string,
    changeSetName: string,
    changeSetType: 'CREATE' | 'UPDATE',
  ): Promise<void> {
    const template = Buffer.byteLength(body, 'utf8') <= MAX_TEMPLATE_BODY_BYTES ? { TemplateBody: body } : { TemplateURL: await this.upload(deployment, body, changeSetName) };
    try {
      await client.send(
        new CreateChangeSetCommand({
          StackName: deployment.stackName,
          ChangeSetName: changeSetName,
          ChangeSetType: changeSetType,
          ...template,
          Capabilities: [...this.capabilities],
          Tags: Object.entries(deployment.tags).map(([Key, Value]) => ({ Key, Value })),
          ...this.roleFor(deployment),
          Description: `saas-tenancy-kit deployment of ${deployment.stackName}`,
        }),
      );
    } catch (error) {
      if (isNamed(error, 'AlreadyExistsException')) {
        return; // Created by a concurrent call; the wait below picks it up.
      }
      throw stackError(error, 'CreateChangeSet', deployment.stackName);
    }
  }

  private async upload(deployment: StackDeployment, body: string, changeSetName: string): Promise<string> {
    const bytes = Buffer.byteLength(body, 'utf8');
    if (this.uploader === undefined) {
      throw new ProviderConfigurationError(
        `The template of stack ${deployment.stackName} has ${bytes} bytes, more than CloudFormation's TemplateBody limit of ${MAX_TEMPLATE_BODY_BYTES}. Give CloudFormationStackDeployer an uploader (S3) so it can pass a TemplateURL.`,
      );
    }
    return this.uploader.upload({ key: `${deployment.stackName}/${changeSetName}.json`, body, accountId: deployment.accountId, region: deployment.region });
  }

  private async waitForChangeSet(client: CloudFormationClient, stackName: string, changeSetName: string): Promise<DescribeChangeSetCommandOutput> {
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      const changeSet = await describeChangeSet(client, stackName, changeSetName);
      if (changeSet === undefined) {
        throw new ProviderBusyError(`Change set ${changeSetName} of stack ${stackName} disappeared while being created (another deployment executed or deleted it); deploy again.`);
      }
      if (changeSet.Status === 'CREATE_COMPLETE' || changeSet.Status === 'FAILED') {
        return changeSet;
      }
      if (Date.now() >= deadline) {
        throw new ProviderBusyError(`Change set ${changeSetName} of stack ${stackName} is still ${changeSet.Status ?? 'pending'}; deploy again to keep waiting.`);
      }
      await sleep(this.pollIntervalMs);
    }
  }

  private async deleteAndWait(client: CloudFormationClient, stackName: string, role: { RoleARN?: string }): Promise<void> {
    await deleteStack(client, stackName, role);
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      const stack = await describeStack(client, stackName);
      if (stack === undefined || stack.StackStatus === 'DELETE_COMPLETE') {
        return;
      }
      if (stack.StackStatus === 'DELETE_FAILED') {
        throw new ProviderRejectedError(`Stack ${stackName} failed its first creation and then its deletion: ${await failureReason(client, stack)}`);
      }
      if (Date.now() >= deadline) {
        throw new ProviderBusyError(`Stack ${stackName}, deleted after a failed first creation, is still ${stack.StackStatus ?? 'deleting'}; deploy again to keep waiting.`);
      }
      await sleep(this.pollIntervalMs);
    }
  }

  private async hasExecutingChangeSet(client: CloudFormationClient, stackName: string): Promise<boolean> {
    let nextToken: string | undefined;
    do {
      const page = await call(SERVICE, 'ListChangeSets', () =>
        client.send(new ListChangeSetsCommand({ StackName: stackName, ...(nextToken === undefined ? {} : { NextToken: nextToken }) })),
      );
      if ((page.Summaries ?? []).some((summary) => summary.ExecutionStatus === 'EXECUTE_IN_PROGRESS')) {
        return true;
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return false;
  }
}

function where(stack: StackRef): string {
  return `${stack.accountId === undefined ? 'the platform account' : `account ${stack.accountId}`}, ${stack.region}`;
}

/** CloudFormation answers a missing stack with a ValidationError, not a typed not-found. */
function isMissingStack(error: unknown): boolean {
  return isNamed(error, 'ValidationError') && /does not exist/.test(errorMessage(error));
}

function stackError(error: unknown, operation: string, stackName: string): Error {
  if (isNamed(error, 'ValidationError') && /_IN_PROGRESS state/.test(errorMessage(error))) {
    return new ProviderBusyError(`CloudFormation ${operation} of ${stackName}: ${errorMessage(error)}`, { cause: error });
  }
  if (isNamed(error, 'InsufficientCapabilitiesException')) {
    return new ProviderConfigurationError(
      `CloudFormation ${operation} of ${stackName} needs more capabilities: ${errorMessage(error)}. Add them to CloudFormationStackDeployer's capabilities.`,
      { cause: error },
    );
  }
  return fromSdkError(SERVICE, operation, error);
}

async function describeStack(client: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const { Stacks: stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return stacks?.[0];
  } catch (error) {
    if (isMissingStack(error)) {
      return undefined;
    }
    throw stackError(error, 'DescribeStacks', stackName);
  }
}

async function describeChangeSet(client: CloudFormationClient, stackName: string, changeSetName: string): Promise<DescribeChangeSetCommandOutput | undefined> {
  try {
    return await client.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
  } catch (error) {
    if (isNamed(error, 'ChangeSetNotFoundException') || isMissingStack(error)) {
      return undefined;
    }
    throw stackError(error, 'DescribeChangeSet', stackName);
  }
}

async function deleteChangeSet(client: CloudFormationClient, stackName: string, changeSetName: string): Promise<void> {
  try {
    await client.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
  } catch (error) {
    if (isNamed(error, 'ChangeSetNotFoundException') || isMissingStack(error)) {
      return;
    }
    throw stackError(error, 'DeleteChangeSet', stackName);
  }
}

async function deleteStack(client: CloudFormationClient, stackName: string, role: { RoleARN?: string }): Promise<void> {
  try {
    await client.send(new DeleteStackCommand({ StackName: stackName, ...role }));
  } catch (error) {
    if (isMissingStack(error)) {
      return;
    }
    throw stackError(error, 'DeleteStack', stackName);
  }
}

/**
 * Why the stack's last operation failed: the oldest failed resource event of that operation (the
 * root cause; the later ones are mostly "Resource creation cancelled"), else the stack's own reason.
 */
async function failureReason(client: CloudFormationClient, stack: Stack): Promise<string> {
  const stackName = stack.StackName ?? 'unknown';
  let rootCause: StackEvent | undefined;
  let nextToken: string | undefined;
  let pages = 0;
  scan: do {
    const page = await call(SERVICE, 'DescribeStackEvents', () =>
      client.send(new DescribeStackEventsCommand({ StackName: stack.StackId ?? stackName, ...(nextToken === undefined ? {} : { NextToken: nextToken }) })),
    );
    // Newest first: walk back to the event that opened the operation.
    for (const event of page.StackEvents ?? []) {
      const isStackItself = event.ResourceType === 'AWS::CloudFormation::Stack' && event.LogicalResourceId === stackName;
      if (isStackItself) {
        if (OPERATION_START.has(event.ResourceStatus ?? '')) {
          break scan;
        }
        continue;
      }
      if (event.ResourceStatus?.endsWith('_FAILED') && !/cancelled/i.test(event.ResourceStatusReason ?? '')) {
        rootCause = event;
      }
    }
    nextToken = page.NextToken;
    pages += 1;
  } while (nextToken !== undefined && pages < MAX_EVENT_PAGES);

  const prefix = `Stack ${stackName} ${stack.StackStatus ?? ''}`;
  if (rootCause !== undefined) {
    return `${prefix}: ${rootCause.LogicalResourceId ?? '?'} (${rootCause.ResourceType ?? '?'}) ${rootCause.ResourceStatus ?? ''}: ${rootCause.ResourceStatusReason ?? 'no reason given'}`;
  }
  return `${prefix}: ${stack.StackStatusReason ?? 'no failed resource found in its events'}`;
}
