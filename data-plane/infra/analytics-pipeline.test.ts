import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsPipeline, AnalyticsPipelineStack, type AnalyticsPipelineProps } from './analytics-pipeline.js';
import { AnalyticsPipelineConfigError } from './errors.js';

const INLINE = lambda.Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });');
const PRODUCER = 'arn:aws:iam::222222222222:role/saas-kit/producers/TenantProducerRoleA';

function build(props: AnalyticsPipelineProps = {}): { stack: AnalyticsPipelineStack; template: Template } {
  const stack = new AnalyticsPipelineStack(new App(), 'Analytics', { env: { account: '111111111111', region: 'us-east-1' }, pipeline: { code: INLINE, ...props } });
  return { stack, template: Template.fromStack(stack) };
}

function nag(stack: Stack): string[] {
  return new AwsSolutionsChecks().validateScope(stack).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.locations.join(', ')}: ${violation.description}`),
  );
}

let stack: AnalyticsPipelineStack;
let template: Template;
beforeAll(() => {
  ({ stack, template } = build());
});

const logicalId = (construct: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(construct.node.defaultChild as never);

describe('AnalyticsPipeline: the stream', () => {
  it('is encrypted with its own rotating KMS key', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [logicalId(stack.pipeline.streamKey), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::KMS::Key', { Description: 'Central event stream', EnableKeyRotation: true });
  });

  it('is on demand by default and keeps records 7 days', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RetentionPeriodHours: 168 });
  });

  it('is provisioned with the given shards', () => {
    build({ shardCount: 4 }).template.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
  });

  it('has an enhanced fan-out consumer for the aggregator', () => {
    template.hasResourceProperties('AWS::Kinesis::StreamConsumer', {
      ConsumerName: 'analytics-aggregator',
      StreamARN: { 'Fn::GetAtt': [logicalId(stack.pipeline.stream), 'Arn'] },
    });
  });

  it('admits silo producer roles in its resource policy and lets them make data keys', () => {
    const { template: withProducers } = build({ producerRoleArns: [PRODUCER] });
    withProducers.hasResourceProperties('AWS::Kinesis::ResourcePolicy', {
      ResourcePolicy: { Statement: [Match.objectLike({ Principal: { AWS: PRODUCER }, Action: Match.arrayWith(['kinesis:PutRecords']) })] },
    });
    withProducers.hasResourceProperties('AWS::KMS::Key', {
      Description: 'Central event stream',
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { AWS: PRODUCER }, Action: 'kms:GenerateDataKey' })]) },
    });
    template.resourceCountIs('AWS::Kinesis::ResourcePolicy', 0);
  });
});

describe('AnalyticsPipeline: the event source', () => {
  it('reads from the consumer with batch item failures, bisection, bounded retries and age', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Consumer'), 'ConsumerARN'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      ParallelizationFactor: 1,
    });
  });

  it('sends batches that exhaust their retries to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.pipeline.deadLetterQueue), 'Arn'] } } },
    });
  });

  it('takes retries and record age from props', () => {
    build({ retryAttempts: 3, maxRecordAge: Duration.hours(1) }).template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
    });
  });

  it('keeps the dead-letter queue encrypted with a KMS key and TLS-only', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterKey'), 'Arn'] }, MessageRetentionPeriod: 1_209_600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });
});

describe('AnalyticsPipeline: storage', () => {
  it('keeps aggregates in an encrypted, versioned bucket closed to the public', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it('expires old versions and dead letters', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
          Match.objectLike({ Id: 'dead-letters', Prefix: 'dead-letter/', ExpirationInDays: 90 }),
        ]),
      },
    });
  });

  it('denies requests without TLS on every bucket', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
  });

  it('has a pay-per-request lease table keyed by shardId, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'shardId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('retains the bucket, table and keys when the stack goes', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::KMS::Key']) {
      for (const resource of Object.values(template.findResources(type))) expect(resource.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('AnalyticsPipeline: the function', () => {
  it('is told where the bucket is, under the name the handler reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ANALYTICS_BUCKET: { Ref: logicalId(stack.pipeline.bucket) },
        }),
      },
    });
  });

  it('may read and write its bucket, and read the stream through its consumer', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    // The lease table is the long-running consumer's; the Lambda's checkpoints are its event source's.
    expect(policies).not.toContain('dynamodb:');
    for (const action of ['s3:PutObject', 'kinesis:SubscribeToShard', 'kinesis:GetRecords', 'kms:Decrypt', 'sqs:SendMessage']) {
      expect(policies).toContain(action);
    }
    expect(policies).not.toContain('kinesis:PutRecord');
  });

  it('uses no AWS managed policy', () => {
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }), ManagedPolicyArns: Match.absent() });
  });
});

describe('AnalyticsPipeline: alarms', () => {
  it.each([
    ['iterator age', { MetricName: 'IteratorAge', Namespace: 'AWS/Lambda', Statistic: 'Maximum', Threshold: 300_000 }],
    ['function errors', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 0 }],
    ['throttles', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Threshold: 0 }],
    ['dead-letter depth', { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 0 }],
  ])('alarms on %s', (_name, properties) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...properties, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('notifies the topic on alarm and on recovery when given one', () => {
    const app = new App();
    const topicStack = new Stack(app, 'Topic');
    const topic = new sns.Topic(topicStack, 'Alarms');
    const withTopic = new Stack(app, 'WithTopic');
    new AnalyticsPipeline(withTopic, 'Pipeline', { code: INLINE, alarmTopic: topic });
    const alarms = Object.values(Template.fromStack(withTopic).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(alarm.Properties.OKActions).toHaveLength(1);
    }
  });
});

describe('AnalyticsPipeline: cdk-nag and validation', () => {
  it('passes cdk-nag AwsSolutions', () => {
    expect(nag(stack)).toEqual([]);
  });

  it('passes cdk-nag AwsSolutions with silo producers admitted', () => {
    expect(nag(build({ producerRoleArns: [PRODUCER] }).stack)).toEqual([]);
  });

  it.each([
    [{ shardCount: 0 }, /shardCount: must be a whole number of shards from 1/],
    [{ batchSize: 20_000 }, /batchSize: must be from 1 to 10000/],
    [{ retryAttempts: -1 }, /retryAttempts: must be from 0 to 10000/],
    [{ maxRecordAge: Duration.days(8) }, /maxRecordAge: must be from 60 seconds to 7 days/],
    [{ streamRetention: Duration.days(1), maxRecordAge: Duration.days(2) }, /maxRecordAge: must not exceed streamRetention \(24 h\)/],
  ] as const)('rejects %o', (props, message) => {
    expect(() => build(props)).toThrow(message);
    expect(() => build(props)).toThrow(AnalyticsPipelineConfigError);
  });
});

describe('AnalyticsPipeline: bundling', () => {
  it('bundles a TypeScript handler entry with esbuild, offline', () => {
    const outdir = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'analytics-pipeline-test');
    const app = new App({ outdir });
    const bundled = new AnalyticsPipelineStack(app, 'Bundled', { pipeline: { handlerEntry: join(import.meta.dirname, 'testing', 'echo-handler.ts') } });
    const assembly = app.synth();
    const asset = Template.fromStack(bundled).findResources('AWS::Lambda::Function');
    expect(Object.keys(asset)).toHaveLength(1);
    const assetDirs = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assetDirs.length).toBeGreaterThan(0);
    expect(assetDirs.some((dir) => existsSync(join(assembly.directory, dir, 'index.mjs')))).toBe(true);
  });
});
