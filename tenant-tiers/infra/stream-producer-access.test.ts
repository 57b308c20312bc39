import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { describe, expect, it } from 'vitest';
import { STREAM_PRODUCER_ACTIONS, StreamProducerAccess } from './stream-producer-access.js';
import { EVENT_STREAM_ARN, nagFindings } from './testing/fixtures.js';

const ROLE_A = 'arn:aws:iam::222222222222:role/saas-kit/producers/TenantProducerRoleA';
const ROLE_B = 'arn:aws:iam::333333333333:role/saas-kit/producers/TenantProducerRoleB';

function build(producerRoleArns: readonly string[]): Stack {
  const stack = new Stack(new App(), 'Platform');
  const stream = kinesis.Stream.fromStreamArn(stack, 'Events', EVENT_STREAM_ARN);
  new StreamProducerAccess(stack, 'SiloProducers', { stream, producerRoleArns });
  return stack;
}

describe('StreamProducerAccess', () => {
  it("admits each producer role, once, to the stream's write actions", () => {
    Template.fromStack(build([ROLE_B, ROLE_A, ROLE_B])).hasResourceProperties('AWS::Kinesis::ResourcePolicy', {
      ResourceArn: EVENT_STREAM_ARN,
      ResourcePolicy: {
        Statement: [{ Effect: 'Allow', Principal: { AWS: [ROLE_A, ROLE_B] }, Action: [...STREAM_PRODUCER_ACTIONS], Resource: EVENT_STREAM_ARN }],
      },
    });
  });

  it('grants no read or management action', () => {
    const policy = Template.fromStack(build([ROLE_A])).findResources('AWS::Kinesis::ResourcePolicy');
    const statements = Object.values(policy).flatMap((resource) => resource.Properties.ResourcePolicy.Statement as { Action: string[] }[]);
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions.filter((action) => !/^kinesis:(PutRecords?|ListShards|DescribeStreamSummary)$/.test(action))).toEqual([]);
  });

  it('is one resource whatever the number of producers', () => {
    const template = Template.fromStack(build(Array.from({ length: 50 }, (_, i) => `arn:aws:iam::${String(100000000000 + i)}:role/saas-kit/producers/P`)));
    template.resourceCountIs('AWS::Kinesis::ResourcePolicy', 1);
    const [policy] = Object.values(template.findResources('AWS::Kinesis::ResourcePolicy'));
    expect(policy?.Properties.ResourcePolicy.Statement[0].Principal.AWS).toHaveLength(50);
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(nagFindings(build([ROLE_A]))).toEqual([]);
  });

  it('rejects an empty list, a value that is no role ARN, and a policy over 20 KiB', () => {
    expect(() => build([])).toThrow(/producerRoleArns: must list at least one producer role ARN/);
    expect(() => build(['arn:aws:iam::222222222222:user/bob'])).toThrow(/producerRoleArns\.0: must be an IAM role ARN/);
    const many = Array.from({ length: 300 }, (_, i) => `arn:aws:iam::${String(100000000000 + i)}:role/saas-kit/producers/TenantProducerRole${i}`);
    expect(() => build(many)).toThrow(/20 KiB/);
  });
});
