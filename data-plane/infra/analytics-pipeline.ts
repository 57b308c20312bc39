/**
 * `AnalyticsPipeline`: the AWS side of the real-time analytics (issue 4, point 5). The central event
 * stream (KMS-encrypted), an enhanced fan-out consumer feeding the aggregation Lambda (batch item
 * failures, bisect on error, bounded retries, an encrypted SQS on-failure destination), the aggregates
 * bucket, the lease/checkpoint table, and alarms on what stops the numbers from being current.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisConsumerEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { StreamProducerAccess, accessLogsBucket } from '../../tenant-tiers/infra/index.js';
import { AnalyticsPipelineConfigError } from './errors.js';
import { kitHandlerFunction } from './kit-handler-function.js';

/**
 * Environment variables the aggregation Lambda reads (`lambdaConfigFromEnvironment` in data-plane/analytics).
 * It needs only its bucket: the event source keeps the checkpoints, and each record names its stream.
 */
export const ANALYTICS_HANDLER_ENV = {
  /** Name of the aggregates bucket. */
  bucketName: 'ANALYTICS_BUCKET',
} as const;

/** Where the handler is, relative to the repository: `data-plane/analytics/lambda-handler.ts`, exporting `handler`. */
export const DEFAULT_ANALYTICS_HANDLER_ENTRY = fileURLToPath(new URL('../analytics/lambda-handler.ts', import.meta.url));

export interface AnalyticsPipelineProps {
  /**
   * Shards of the stream in provisioned mode.
   * @default - on-demand capacity, which follows the write rate without resharding by hand
   */
  readonly shardCount?: number;
  /**
   * How long the stream keeps records: the longest consumer outage the aggregates survive without loss.
   * @default Duration.days(7)
   */
  readonly streamRetention?: Duration;
  /**
   * The Lambda's code. Give it to skip bundling (tests pass `Code.fromInline`, a pipeline a prebuilt asset).
   * @default - `handlerEntry` bundled with esbuild
   */
  readonly code?: lambda.Code;
  /**
   * TypeScript file bundled as the Lambda when `code` is not given; it exports `handler`.
   * @default `data-plane/analytics/lambda-handler.ts`
   */
  readonly handlerEntry?: string;
  /**
   * Records per invocation.
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * How long the event source waits to fill a batch.
   * @default Duration.seconds(5)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failing batch (after bisection) before its records go to the dead-letter queue.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Oldest record the event source still retries; older ones go to the dead-letter queue.
   * @default Duration.hours(24)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Iterator age above which the aggregates are called late.
   * @default Duration.minutes(5)
   */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * Topic every alarm notifies (on alarm and back to OK).
   * @default - alarms have no action; read them in CloudWatch
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Days the dead-letter objects (`dead-letter/`) of malformed events are kept.
   * @default Duration.days(90)
   */
  readonly deadLetterRetention?: Duration;
  /**
   * Producer roles in silo tenants' accounts that may write to the stream (their stacks'
   * `TenantProducerRoleArn`); adds the stream's resource policy and the key grant.
   * @default - only principals of this account write
   */
  readonly producerRoleArns?: readonly string[];
  /**
   * What happens to the bucket, the table and the key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class AnalyticsPipeline extends Construct {
  public readonly stream: kinesis.Stream;
  public readonly streamKey: kms.Key;
  public readonly consumer: kinesis.StreamConsumer;
  public readonly bucket: s3.Bucket;
  public readonly leaseTable: dynamodb.Table;
  public readonly function: lambda.Function;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly alarms: {
    readonly iteratorAge: cloudwatch.Alarm;
    readonly errors: cloudwatch.Alarm;
    readonly throttles: cloudwatch.Alarm;
    readonly deadLetters: cloudwatch.Alarm;
  };

  public constructor(scope: Construct, id: string, props: AnalyticsPipelineProps = {}) {
    super(scope, id);
    validate(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.streamKey = new kms.Key(this, 'StreamKey', { description: 'Central event stream', enableKeyRotation: true, removalPolicy });
    this.stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.streamKey,
      retentionPeriod: props.streamRetention ?? Duration.days(7),
      ...(props.shardCount === undefined ? { streamMode: kinesis.StreamMode.ON_DEMAND } : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: props.shardCount }),
    });
    Validations.of(this.stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason: "A customer managed key on purpose: silo tenants write from their own accounts, and the aws/kinesis key's policy cannot admit them.",
    });
    // Enhanced fan-out: the aggregator gets its own 2 MB/s per shard, so other readers never slow it.
    this.consumer = new kinesis.StreamConsumer(this, 'Consumer', { stream: this.stream, streamConsumerName: 'analytics-aggregator' });
    if (props.producerRoleArns !== undefined) this.admitProducers(props.producerRoleArns);

    this.bucket = this.buildBucket(removalPolicy, props.deadLetterRetention ?? Duration.days(90));
    this.leaseTable = new dynamodb.Table(this, 'LeaseTable', {
      // The long-running consumer's leases and checkpoints (AnalyticsConsumer), one item per shard;
      // the Lambda needs none, its event source keeps the checkpoints.
      partitionKey: { name: 'shardId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });

    const queueKey = new kms.Key(this, 'DeadLetterKey', { description: 'Analytics dead-letter queue', enableKeyRotation: true, removalPolicy });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: queueKey,
      enforceSSL: true,
      // The longest SQS allows: the failed batches' pointers must outlive an operator's weekend.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination itself; it has none of its own.',
    });

    this.function = this.buildFunction(props);
    this.function.addEventSource(new KinesisConsumerEventSource(this.consumer, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 500,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(5),
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 10,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(24),
      // One batch per shard at a time: the handler keeps per-shard state (watermarks, recent ids) in S3.
      parallelizationFactor: 1,
      onFailure: new SqsDlq(this.deadLetterQueue),
    }));

    this.alarms = this.buildAlarms(props);
  }

  private admitProducers(producerRoleArns: readonly string[]): void {
    new StreamProducerAccess(this, 'ProducerAccess', { stream: this.stream, producerRoleArns });
    // SSE-KMS: a producer in another account also needs the key policy to let it make data keys.
    this.streamKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'SiloTenantProducers',
      principals: [...new Set(producerRoleArns)].sort().map((arn) => new iam.ArnPrincipal(arn)),
      actions: ['kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `kinesis.${Stack.of(this).region}.amazonaws.com` } },
    }));
  }

  private buildBucket(removalPolicy: RemovalPolicy, deadLetterRetention: Duration): s3.Bucket {
    const accessLogs = accessLogsBucket(this, removalPolicy);
    return new s3.Bucket(this, 'AggregatesBucket', {
      encryption: s3.BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'aggregates/',
      lifecycleRules: [
        // Aggregates are rewritten in place, idempotently: old versions are only a short undo window.
        { id: 'noncurrent-versions', noncurrentVersionExpiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'dead-letters', prefix: 'dead-letter/', expiration: deadLetterRetention },
      ],
      removalPolicy,
    });
  }

  private buildFunction(props: AnalyticsPipelineProps): lambda.Function {
    const logGroup = new logs.LogGroup(this, 'AggregatorLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    // Its own role, so no AWS managed policy: logs to its group, and the grants below.
    const role = new iam.Role(this, 'AggregatorRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }));
    const fn = kitHandlerFunction(this, 'Aggregator', {
      memorySize: 1024,
      // A batch of 500 events takes well under this; the margin covers S3 rewrites of a day's files.
      timeout: Duration.minutes(2),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: { [ANALYTICS_HANDLER_ENV.bucketName]: this.bucket.bucketName },
      ...(props.code ? { code: props.code } : {}),
      entry: props.handlerEntry ?? DEFAULT_ANALYTICS_HANDLER_ENTRY,
    });
    this.bucket.grantReadWrite(fn);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
      reason: 'The aggregator writes day-partitioned objects whose keys are not known in advance, in its own bucket only.',
    });
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: 'The standard S3 read-write grant on the aggregates bucket only.' });
    }
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: "The event source's grant to send failed batches to the KMS-encrypted dead-letter queue, on that queue's key only." });
    }
    Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray tracing: PutTraceSegments and PutTelemetryRecords take no resource.' });
    return fn;
  }

  private buildAlarms(props: AnalyticsPipelineProps): AnalyticsPipeline['alarms'] {
    const period = Duration.minutes(1);
    const iteratorAge = new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription: 'The aggregator is behind the stream: aggregates are late, and records near the retention period may be lost.',
      metric: this.function.metric('IteratorAge', { statistic: 'Maximum', period }),
      threshold: (props.iteratorAgeThreshold ?? Duration.minutes(5)).toMilliseconds(),
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errors = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: 'The aggregator fails whole invocations (a malformed event is a dead letter, not an error).',
      metric: this.function.metricErrors({ period }),
      threshold: 0,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const throttles = new cloudwatch.Alarm(this, 'ThrottlesAlarm', {
      alarmDescription: 'The aggregator is throttled: raise its concurrency or the account limit.',
      metric: this.function.metricThrottles({ period }),
      threshold: 0,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const deadLetters = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'Batches gave up after their retries: their records are not in the aggregates until replayed.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarms = { iteratorAge, errors, throttles, deadLetters };
    if (props.alarmTopic) {
      const action = new cloudwatchActions.SnsAction(props.alarmTopic);
      for (const alarm of Object.values(alarms)) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
    return alarms;
  }
}

export interface AnalyticsPipelineStackProps extends StackProps {
  /**
   * The pipeline's props.
   * @default - the defaults of `AnalyticsPipelineProps`
   */
  readonly pipeline?: AnalyticsPipelineProps;
}

/** The pipeline in a stack of its own, in the platform account. */
export class AnalyticsPipelineStack extends Stack {
  public readonly pipeline: AnalyticsPipeline;

  public constructor(scope: Construct, id: string, props: AnalyticsPipelineStackProps = {}) {
    super(scope, id, props);
    this.pipeline = new AnalyticsPipeline(this, 'Pipeline', props.pipeline);
  }
}

function validate(props: AnalyticsPipelineProps): void {
  const positiveInteger = (field: keyof AnalyticsPipelineProps, value: number | undefined, max: number, fix: string): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
      throw new AnalyticsPipelineConfigError(field, value, fix);
    }
  };
  positiveInteger('shardCount', props.shardCount, 10_000, 'must be a whole number of shards from 1, or be left out for on-demand capacity');
  positiveInteger('batchSize', props.batchSize, 10_000, 'must be from 1 to 10000 records (the Kinesis event source limit)');
  if (props.retryAttempts !== undefined && (!Number.isInteger(props.retryAttempts) || props.retryAttempts < 0 || props.retryAttempts > 10_000)) {
    throw new AnalyticsPipelineConfigError('retryAttempts', props.retryAttempts, 'must be from 0 to 10000 (the Kinesis event source limit)');
  }
  const retentionHours = props.streamRetention?.toHours();
  const maxAgeSeconds = props.maxRecordAge?.toSeconds();
  if (maxAgeSeconds !== undefined && (maxAgeSeconds < 60 || maxAgeSeconds > 604_800)) {
    throw new AnalyticsPipelineConfigError('maxRecordAge', `${maxAgeSeconds} s`, 'must be from 60 seconds to 7 days (the Kinesis event source limit)');
  }
  if (retentionHours !== undefined && maxAgeSeconds !== undefined && maxAgeSeconds > retentionHours * 3600) {
    throw new AnalyticsPipelineConfigError('maxRecordAge', `${maxAgeSeconds} s`, `must not exceed streamRetention (${retentionHours} h): the stream would drop records still being retried`);
  }
  if (props.code === undefined && props.handlerEntry !== undefined && !/\.(ts|js|mjs|mts)$/.test(props.handlerEntry)) {
    throw new AnalyticsPipelineConfigError('handlerEntry', props.handlerEntry, 'must be a .ts or .js file exporting handler');
  }
}
