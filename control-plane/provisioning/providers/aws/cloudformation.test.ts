import { createHash } from 'node:crypto';

import {
  AlreadyExistsException,
  ChangeSetNotFoundException,
  CloudFormationClient,
  CloudFormationServiceException,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListChangeSetsCommand,
  type StackEvent,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import type { StackDeployment } from '../../providers.js';
import {
  CloudFormationStackDeployer,
  MAX_TEMPLATE_BODY_BYTES,
  ProviderBusyError,
  ProviderConfigurationError,
  ProviderRejectedError,
  ProviderThrottledError,
  type CloudFormationTarget,
  type TemplateUploader,
} from './index.js';

const STACK = 'saas-kit-tenant-acme';
const STACK_ID = `arn:aws:cloudformation:eu-central-1:123456789012:stack/${STACK}/0b7c2a10-0000-11f0-8000-0a1b2c3d4e5f`;
const template = { Resources: { Bucket: { Type: 'AWS::S3::Bucket' } }, Outputs: { TenantRoleArn: { Value: 'arn' } } };
const body = JSON.stringify(template);
const CHANGE_SET = `saas-kit-${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
const deployment: StackDeployment = { stackName: STACK, template, region: 'eu-central-1', tags: { 'saas-kit:tenant': 'acme', 'saas-kit:tier': 'pool' } };
const ref = { stackName: STACK, region: 'eu-central-1' };

const cloudformation = mockClient(CloudFormationClient);
const client = new CloudFormationClient({ region: 'eu-central-1' });
const targets: CloudFormationTarget[] = [];
const deployer = new CloudFormationStackDeployer({
  clients: (target) => {
    targets.push(target);
    return client;
  },
  pollIntervalMs: 0,
});

function cfnError(name: string, message: string): CloudFormationServiceException {
  return new CloudFormationServiceException({ name, $fault: 'client', $metadata: {}, message });
}
const missing = (): CloudFormationServiceException => cfnError('ValidationError', `Stack with id ${STACK} does not exist`);

function stackIs(status: StackStatus, extra: Record<string, unknown> = {}): void {
  cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: STACK, StackId: STACK_ID, StackStatus: status, CreationTime: new Date(0), ...extra }] });
}

function event(logicalId: string, type: string, status: string, reason?: string): StackEvent {
  return {
    StackId: STACK_ID,
    StackName: STACK,
    EventId: `${logicalId}-${status}`,
    LogicalResourceId: logicalId,
    ResourceType: type,
    ResourceStatus: status as StackEvent['ResourceStatus'],
    Timestamp: new Date(0),
    ...(reason === undefined ? {} : { ResourceStatusReason: reason }),
  };
}

beforeEach(() => {
  cloudformation.reset();
  targets.length = 0;
});

afterAll(() => {
  cloudformation.restore();
  client.destroy();
});

describe('startDeployment', () => {
  it('creates a new stack: a CREATE change set named from the template hash, then executes it', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).resolves({ Id: 'cs-arn', StackId: STACK_ID });
    cloudformation.on(DescribeChangeSetCommand).resolves({ ChangeSetName: CHANGE_SET, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(targets).toEqual([{ accountId: undefined, region: 'eu-central-1' }]);
    expect(cloudformation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({ StackName: STACK });
    expect(cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input).toEqual({
      StackName: STACK,
      ChangeSetName: CHANGE_SET,
      ChangeSetType: 'CREATE',
      TemplateBody: body,
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      Tags: [
        { Key: 'saas-kit:tenant', Value: 'acme' },
        { Key: 'saas-kit:tier', Value: 'pool' },
      ],
      Description: `saas-tenancy-kit deployment of ${STACK}`,
    });
    expect(cloudformation.commandCalls(DescribeChangeSetCommand)[0]?.args[0].input).toEqual({ StackName: STACK, ChangeSetName: CHANGE_SET });
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)[0]?.args[0].input).toEqual({ StackName: STACK, ChangeSetName: CHANGE_SET });
  });

  it('updates an existing stack with an UPDATE change set, waiting while it is being created', async () => {
    stackIs('CREATE_COMPLETE');
    cloudformation
      .on(DescribeChangeSetCommand)
      .rejectsOnce(new ChangeSetNotFoundException({ $metadata: {}, message: `ChangeSet [${CHANGE_SET}] does not exist` }))
      .resolvesOnce({ Status: 'CREATE_PENDING', ExecutionStatus: 'UNAVAILABLE' })
      .resolvesOnce({ Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE' })
      .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.ChangeSetType).toBe('UPDATE');
    expect(cloudformation.commandCalls(DescribeChangeSetCommand)).toHaveLength(4);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it('a stack left in REVIEW_IN_PROGRESS by a crashed first attempt reuses its change set and executes it', async () => {
    stackIs('REVIEW_IN_PROGRESS');
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)[0]?.args[0].input).toEqual({ StackName: STACK, ChangeSetName: CHANGE_SET });
  });

  it('a REVIEW_IN_PROGRESS stack without our change set gets a CREATE change set', async () => {
    stackIs('REVIEW_IN_PROGRESS');
    cloudformation
      .on(DescribeChangeSetCommand)
      .rejectsOnce(new ChangeSetNotFoundException({ $metadata: {}, message: 'no' }))
      .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);
    expect(cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.ChangeSetType).toBe('CREATE');
  });

  it('a stack in ROLLBACK_COMPLETE is deleted, waited for, then created again', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .resolvesOnce({ Stacks: [{ StackName: STACK, StackId: STACK_ID, StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(0) }] })
      .resolvesOnce({ Stacks: [{ StackName: STACK, StackId: STACK_ID, StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date(0) }] })
      .rejects(missing());
    cloudformation.on(DeleteStackCommand).resolves({});
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(DeleteStackCommand)[0]?.args[0].input).toEqual({ StackName: STACK });
    expect(cloudformation.commandCalls(DescribeStacksCommand)).toHaveLength(3);
    expect(cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.ChangeSetType).toBe('CREATE');
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it("a change set that didn't contain changes is an immediate success, and is deleted", async () => {
    stackIs('UPDATE_COMPLETE');
    cloudformation
      .on(DescribeChangeSetCommand)
      .rejectsOnce(new ChangeSetNotFoundException({ $metadata: {}, message: 'no' }))
      .resolves({
        Status: 'FAILED',
        ExecutionStatus: 'UNAVAILABLE',
        StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set.",
      });
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(DeleteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(DeleteChangeSetCommand)[0]?.args[0].input).toEqual({ StackName: STACK, ChangeSetName: CHANGE_SET });
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it("a no-changes change set left by a crashed earlier call is success without a new one", async () => {
    stackIs('UPDATE_COMPLETE');
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.' });
    cloudformation.on(DeleteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(DeleteChangeSetCommand)[0]?.args[0].input).toEqual({ StackName: STACK, ChangeSetName: CHANGE_SET });
    expect(cloudformation.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('a change set CloudFormation cannot create is a non-retryable error with its reason', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'Template format error: Unresolved resource dependencies [Role]' });
    cloudformation.on(DeleteChangeSetCommand).resolves({});

    const attempt = deployer.startDeployment(deployment);
    await expect(attempt).rejects.toThrow(ProviderRejectedError);
    await expect(attempt).rejects.toThrow(/Unresolved resource dependencies \[Role\]/);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cloudformation.commandCalls(DeleteChangeSetCommand).length).toBeGreaterThan(0);
  });

  it('a second call after the change set was executed does nothing', async () => {
    stackIs('UPDATE_COMPLETE');
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'EXECUTE_COMPLETE' });

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('a second call while our change set executes does nothing', async () => {
    stackIs('UPDATE_IN_PROGRESS');
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'EXECUTE_IN_PROGRESS' });

    await deployer.startDeployment(deployment);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('a failed earlier execution of the same template is retried with a fresh change set', async () => {
    stackIs('UPDATE_ROLLBACK_COMPLETE');
    cloudformation
      .on(DescribeChangeSetCommand)
      .resolvesOnce({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'EXECUTE_FAILED' })
      .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(DeleteChangeSetCommand).resolves({});
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);

    expect(cloudformation.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.ChangeSetType).toBe('UPDATE');
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it('AlreadyExistsException from a concurrent call reuses that change set', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).rejects(new AlreadyExistsException({ $metadata: {}, message: `ChangeSet ${CHANGE_SET} already exists` }));
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await deployer.startDeployment(deployment);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it('a stack busy with another operation is a retryable ProviderBusyError', async () => {
    stackIs('UPDATE_IN_PROGRESS');
    cloudformation.on(DescribeChangeSetCommand).rejects(new ChangeSetNotFoundException({ $metadata: {}, message: 'no' }));

    const attempt = deployer.startDeployment(deployment);
    await expect(attempt).rejects.toThrow(ProviderBusyError);
    await expect(attempt).rejects.toMatchObject({ retryable: true });
    expect(cloudformation.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('a stack stuck in UPDATE_ROLLBACK_FAILED needs an operator: not retryable', async () => {
    stackIs('UPDATE_ROLLBACK_FAILED', { StackStatusReason: 'Role could not be restored' });
    const attempt = deployer.startDeployment(deployment);
    await expect(attempt).rejects.toMatchObject({ name: 'ProviderRejectedError', retryable: false });
    await expect(attempt).rejects.toThrow(/UPDATE_ROLLBACK_FAILED: Role could not be restored/);
  });

  it('throttling is retryable', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).rejects(cfnError('Throttling', 'Rate exceeded'));

    const attempt = deployer.startDeployment(deployment);
    await expect(attempt).rejects.toThrow(ProviderThrottledError);
    await expect(attempt).rejects.toThrow('CloudFormation CreateChangeSet failed: Throttling: Rate exceeded');
  });

  it('a change set still being created when the wait ends is retryable, and the next call resumes it', async () => {
    const impatient = new CloudFormationStackDeployer({ clients: () => client, pollIntervalMs: 0, waitTimeoutMs: 0 });
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE' });

    await expect(impatient.startDeployment(deployment)).rejects.toThrow(ProviderBusyError);

    stackIs('REVIEW_IN_PROGRESS');
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});
    await impatient.startDeployment(deployment);
    expect(cloudformation.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    expect(cloudformation.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it('a template over 51,200 bytes without an uploader is a configuration error', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    const large = { ...deployment, template: { Description: 'x'.repeat(MAX_TEMPLATE_BODY_BYTES), Resources: {} } };

    const attempt = deployer.startDeployment(large);
    await expect(attempt).rejects.toThrow(ProviderConfigurationError);
    await expect(attempt).rejects.toThrow(/more than CloudFormation's TemplateBody limit of 51200. Give CloudFormationStackDeployer an uploader/);
    expect(cloudformation.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('a template over 51,200 bytes goes through the uploader as TemplateURL', async () => {
    const uploads: Parameters<TemplateUploader['upload']>[0][] = [];
    const uploader: TemplateUploader = {
      upload: (object) => {
        uploads.push(object);
        return Promise.resolve(`https://templates.s3.eu-central-1.amazonaws.com/${object.key}`);
      },
    };
    const withUploader = new CloudFormationStackDeployer({ clients: () => client, uploader, pollIntervalMs: 0 });
    const large = { ...deployment, accountId: '210987654321', template: { Description: 'x'.repeat(MAX_TEMPLATE_BODY_BYTES), Resources: {} } };
    const largeBody = JSON.stringify(large.template);
    const largeChangeSet = `saas-kit-${createHash('sha256').update(largeBody).digest('hex').slice(0, 12)}`;
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});

    await withUploader.startDeployment(large);

    expect(uploads).toEqual([{ key: `${STACK}/${largeChangeSet}.json`, body: largeBody, accountId: '210987654321', region: 'eu-central-1' }]);
    const input = cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input;
    expect(input?.TemplateURL).toBe(`https://templates.s3.eu-central-1.amazonaws.com/${STACK}/${largeChangeSet}.json`);
    expect(input).not.toHaveProperty('TemplateBody');
  });

  it("asks the factory for the tenant account's client (silo)", async () => {
    stackIs('CREATE_COMPLETE');
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'EXECUTE_COMPLETE' });
    await deployer.startDeployment({ ...deployment, accountId: '210987654321', region: 'ap-southeast-2' });
    expect(targets).toEqual([{ accountId: '210987654321', region: 'ap-southeast-2' }]);
  });

  it('passes the service role for the target account to CreateChangeSet and DeleteStack', async () => {
    const withRole = new CloudFormationStackDeployer({
      clients: () => client,
      pollIntervalMs: 0,
      serviceRoleArn: ({ accountId, region }) => `arn:aws:iam::${accountId ?? '123456789012'}:role/cdk-hnb659fds-cfn-exec-role-${accountId ?? '123456789012'}-${region}`,
    });
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    cloudformation.on(CreateChangeSetCommand).resolves({});
    cloudformation.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cloudformation.on(ExecuteChangeSetCommand).resolves({});
    cloudformation.on(DeleteStackCommand).resolves({});

    await withRole.startDeployment({ ...deployment, accountId: '210987654321' });
    await withRole.startDeletion(ref);

    expect(cloudformation.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.RoleARN).toBe(
      'arn:aws:iam::210987654321:role/cdk-hnb659fds-cfn-exec-role-210987654321-eu-central-1',
    );
    expect(cloudformation.commandCalls(DeleteStackCommand)[0]?.args[0].input).toEqual({
      StackName: STACK,
      RoleARN: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-central-1',
    });
  });

  it('rejects a stack name CloudFormation would refuse, before any call', async () => {
    await expect(deployer.startDeployment({ ...deployment, stackName: 'tenant_acme' })).rejects.toThrow(/received "tenant_acme"/);
    expect(cloudformation.calls()).toHaveLength(0);
  });
});

describe('deploymentStatus', () => {
  it.each(['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'] as const)(
    '%s is IN_PROGRESS (a failure is reported after the rollback)',
    async (status) => {
      stackIs(status);
      await expect(deployer.deploymentStatus(ref)).resolves.toEqual({ state: 'IN_PROGRESS' });
    },
  );

  it.each(['CREATE_COMPLETE', 'UPDATE_COMPLETE'] as const)('%s is SUCCEEDED with the outputs', async (status) => {
    stackIs(status, {
      Outputs: [
        { OutputKey: 'TenantRoleArn', OutputValue: 'arn:aws:iam::123456789012:role/tenant-acme' },
        { OutputKey: 'TenantNodegroupName', OutputValue: 'tenant-acme' },
      ],
    });
    await expect(deployer.deploymentStatus(ref)).resolves.toEqual({
      state: 'SUCCEEDED',
      result: { outputs: { TenantRoleArn: 'arn:aws:iam::123456789012:role/tenant-acme', TenantNodegroupName: 'tenant-acme' } },
    });
  });

  it('CREATE_FAILED then ROLLBACK_COMPLETE is FAILED with the reason of the resource that failed first', async () => {
    stackIs('ROLLBACK_COMPLETE', { StackStatusReason: 'The following resource(s) failed to create: [Bucket, Role]. Rollback requested by user.' });
    // Newest first, as CloudFormation returns them, over two pages.
    cloudformation
      .on(DescribeStackEventsCommand)
      .resolvesOnce({
        StackEvents: [
          event(STACK, 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE'),
          event('Role', 'AWS::IAM::Role', 'DELETE_COMPLETE'),
          event(STACK, 'AWS::CloudFormation::Stack', 'ROLLBACK_IN_PROGRESS', 'The following resource(s) failed to create: [Bucket, Role].'),
          event('Role', 'AWS::IAM::Role', 'CREATE_FAILED', 'Resource creation cancelled'),
        ],
        NextToken: 'older',
      })
      .resolvesOnce({
        StackEvents: [
          event('Bucket', 'AWS::S3::Bucket', 'CREATE_FAILED', 'acme-data already exists'),
          event('Bucket', 'AWS::S3::Bucket', 'CREATE_IN_PROGRESS'),
          event(STACK, 'AWS::CloudFormation::Stack', 'CREATE_IN_PROGRESS', 'User Initiated'),
          event('Old', 'AWS::SQS::Queue', 'CREATE_FAILED', 'from an earlier operation'),
        ],
        NextToken: 'even-older',
      });

    await expect(deployer.deploymentStatus(ref)).resolves.toEqual({
      state: 'FAILED',
      reason: `Stack ${STACK} ROLLBACK_COMPLETE: Bucket (AWS::S3::Bucket) CREATE_FAILED: acme-data already exists`,
    });
    expect(cloudformation.commandCalls(DescribeStackEventsCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK_ID },
      { StackName: STACK_ID, NextToken: 'older' },
    ]);
  });

  it('UPDATE_ROLLBACK_COMPLETE is FAILED with the failure of the last update, not an older one', async () => {
    stackIs('UPDATE_ROLLBACK_COMPLETE');
    cloudformation.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        event(STACK, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_COMPLETE'),
        event('Nodegroup', 'AWS::EKS::Nodegroup', 'UPDATE_FAILED', 'Instance type m9.huge is not supported'),
        event(STACK, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS', 'User Initiated'),
        event('Bucket', 'AWS::S3::Bucket', 'CREATE_FAILED', 'older failure'),
      ],
    });

    await expect(deployer.deploymentStatus(ref)).resolves.toEqual({
      state: 'FAILED',
      reason: `Stack ${STACK} UPDATE_ROLLBACK_COMPLETE: Nodegroup (AWS::EKS::Nodegroup) UPDATE_FAILED: Instance type m9.huge is not supported`,
    });
  });

  it('falls back to the stack reason when no resource event explains the failure', async () => {
    stackIs('ROLLBACK_COMPLETE', { StackStatusReason: 'Rollback requested by user.' });
    cloudformation.on(DescribeStackEventsCommand).resolves({ StackEvents: [event(STACK, 'AWS::CloudFormation::Stack', 'CREATE_IN_PROGRESS')] });
    await expect(deployer.deploymentStatus(ref)).resolves.toEqual({ state: 'FAILED', reason: `Stack ${STACK} ROLLBACK_COMPLETE: Rollback requested by user.` });
  });

  it('a stack that does not exist is FAILED', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    await expect(deployer.deploymentStatus(ref)).resolves.toEqual({ state: 'FAILED', reason: `Stack ${STACK} does not exist in the platform account, eu-central-1.` });
  });

  it('REVIEW_IN_PROGRESS is IN_PROGRESS while a change set executes, FAILED when none does', async () => {
    stackIs('REVIEW_IN_PROGRESS');
    cloudformation
      .on(ListChangeSetsCommand)
      .resolvesOnce({ Summaries: [{ ChangeSetName: CHANGE_SET, ExecutionStatus: 'EXECUTE_IN_PROGRESS' }] })
      .resolvesOnce({ Summaries: [{ ChangeSetName: CHANGE_SET, ExecutionStatus: 'AVAILABLE' }] });

    await expect(deployer.deploymentStatus(ref)).resolves.toEqual({ state: 'IN_PROGRESS' });
    await expect(deployer.deploymentStatus(ref)).resolves.toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/no change set executing/) });
    expect(cloudformation.commandCalls(ListChangeSetsCommand)[0]?.args[0].input).toEqual({ StackName: STACK });
  });

  it('throttling is retryable', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(cfnError('Throttling', 'Rate exceeded'));
    await expect(deployer.deploymentStatus(ref)).rejects.toMatchObject({ name: 'ProviderThrottledError', retryable: true });
  });
});

describe('deletion', () => {
  it('startDeletion sends DeleteStack', async () => {
    cloudformation.on(DeleteStackCommand).resolves({});
    await deployer.startDeletion(ref);
    expect(cloudformation.commandCalls(DeleteStackCommand)[0]?.args[0].input).toEqual({ StackName: STACK });
  });

  it('a stack that does not exist is deleted already', async () => {
    cloudformation.on(DeleteStackCommand).rejects(missing());
    await expect(deployer.startDeletion(ref)).resolves.toBeUndefined();
  });

  it('a stack busy updating is a retryable error', async () => {
    cloudformation.on(DeleteStackCommand).rejects(cfnError('ValidationError', `Stack:${STACK_ID} is in UPDATE_IN_PROGRESS state and can not be deleted`));
    await expect(deployer.startDeletion(ref)).rejects.toThrow(ProviderBusyError);
  });

  it('deletionStatus: gone is SUCCEEDED, DELETE_IN_PROGRESS is IN_PROGRESS, DELETE_FAILED is FAILED with the resource reason', async () => {
    cloudformation.on(DescribeStacksCommand).rejectsOnce(missing());
    await expect(deployer.deletionStatus(ref)).resolves.toEqual({ state: 'SUCCEEDED', result: null });

    stackIs('DELETE_IN_PROGRESS');
    await expect(deployer.deletionStatus(ref)).resolves.toEqual({ state: 'IN_PROGRESS' });

    stackIs('DELETE_FAILED');
    cloudformation.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        event('Bucket', 'AWS::S3::Bucket', 'DELETE_FAILED', 'The bucket you tried to delete is not empty'),
        event(STACK, 'AWS::CloudFormation::Stack', 'DELETE_IN_PROGRESS', 'User Initiated'),
      ],
    });
    await expect(deployer.deletionStatus(ref)).resolves.toEqual({
      state: 'FAILED',
      reason: `Stack ${STACK} DELETE_FAILED: Bucket (AWS::S3::Bucket) DELETE_FAILED: The bucket you tried to delete is not empty`,
    });
  });

  it('stackExists is true for a stack, false when CloudFormation says it does not exist', async () => {
    stackIs('UPDATE_COMPLETE');
    await expect(deployer.stackExists(ref)).resolves.toBe(true);
    cloudformation.on(DescribeStacksCommand).rejects(missing());
    await expect(deployer.stackExists(ref)).resolves.toBe(false);
  });
});
