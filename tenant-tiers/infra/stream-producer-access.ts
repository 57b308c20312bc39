/**
 * `StreamProducerAccess`: the platform side of a silo tenant's telemetry. The central stream's resource
 * policy (`AWS::Kinesis::ResourcePolicy`) admits the producer role each silo stack outputs
 * (`TenantProducerRoleArn`), so the tenant's account may write to the stream and do nothing else.
 */
import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { TenantStackInputError } from './errors.js';

/** The actions a producer needs; `DescribeStreamSummary` and `ListShards` let SDK producers find shards. */
export const STREAM_PRODUCER_ACTIONS = ['kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords'] as const;

/** Kinesis caps a resource policy at 20 KiB. */
const MAX_POLICY_BYTES = 20 * 1024;
const PRODUCER_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export interface StreamProducerAccessProps {
  /** The central event stream. */
  readonly stream: kinesis.IStream;
  /** Producer role ARNs of the silo tenants, from their stacks' `TenantProducerRoleArn` outputs. At least one. */
  readonly producerRoleArns: readonly string[];
}

export class StreamProducerAccess extends Construct {
  /** The stream's resource policy. */
  public readonly policy: kinesis.CfnResourcePolicy;

  public constructor(scope: Construct, id: string, props: StreamProducerAccessProps) {
    super(scope, id);
    const arns = props.producerRoleArns;
    if (arns.length === 0) {
      throw new TenantStackInputError('producerRoleArns', arns, 'must list at least one producer role ARN; leave StreamProducerAccess out while there is no silo tenant');
    }
    arns.forEach((arn, i) => {
      if (!Token.isUnresolved(arn) && !PRODUCER_ROLE_ARN.test(arn)) {
        throw new TenantStackInputError(`producerRoleArns.${i}`, arn, 'must be an IAM role ARN, arn:aws:iam::<account>:role/<path><name>');
      }
    });
    const unique = [...new Set(arns)].sort();
    const document = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'SiloTenantProducers',
          principals: unique.map((arn) => new iam.ArnPrincipal(arn)),
          actions: [...STREAM_PRODUCER_ACTIONS],
          resources: [props.stream.streamArn],
        }),
      ],
    });
    // Checked here so the deploy does not fail: ~100 bytes per role gives room for about 180 silo tenants.
    const literalBytes = unique.filter((arn) => !Token.isUnresolved(arn)).reduce((sum, arn) => sum + arn.length + 3, 0);
    if (literalBytes > MAX_POLICY_BYTES - 1024) {
      throw new TenantStackInputError('producerRoleArns', `${unique.length} roles`, `make a policy over Kinesis' 20 KiB limit; split producers across streams`);
    }
    this.policy = new kinesis.CfnResourcePolicy(this, 'Resource', {
      resourceArn: props.stream.streamArn,
      resourcePolicy: document.toJSON() as Record<string, unknown>,
    });
  }
}
