import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loginEventsConfigFromEnvironment } from '../identity-events/index.js';
import { AnalyticsPipeline } from './analytics-pipeline.js';
import { LoginEventsConfigError } from './errors.js';
import { LOGIN_EVENTS_HANDLER_ENV, LoginEvents, type LoginEventsProps } from './login-events.js';

const INLINE = lambda.Code.fromInline('export const handler = async (event) => event;');
const ENV = { account: '111111111111', region: 'us-east-1' };

interface Built {
  readonly stack: Stack;
  readonly template: Template;
  readonly loginEvents: LoginEvents;
  readonly pipeline: AnalyticsPipeline;
  readonly userPool: cognito.UserPool;
}

/** The construct on the analytics pipeline's (KMS-encrypted) stream, with a user pool unless `withPool` is false. */
function build(props: Partial<LoginEventsProps> = {}, withPool = true): Built {
  const stack = new Stack(new App(), 'Identity', { env: ENV });
  const pipeline = new AnalyticsPipeline(stack, 'Analytics', { code: lambda.Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });') });
  const userPool = new cognito.UserPool(stack, 'Users');
  const loginEvents = new LoginEvents(stack, 'LoginEvents', { stream: pipeline.stream, code: INLINE, ...(withPool ? { userPool } : {}), ...props });
  return { stack, template: Template.fromStack(stack), loginEvents, pipeline, userPool };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/** The statements of the function role's policy. */
function roleStatements(built: Built): { Action: unknown; Resource: unknown; Condition?: unknown }[] {
  const roleId = logicalId(built.stack, built.loginEvents.function.role as never);
  const policies = Object.values(built.template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[];
}

function nag(scope: LoginEvents): string[] {
  return new AwsSolutionsChecks().validateScope(scope).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.locations.join(', ')}: ${violation.description}`),
  );
}

describe('LoginEvents', () => {
  it('is the user pool\'s PostAuthentication trigger, and Cognito may invoke it for that pool only', () => {
    const built = build();
    const functionId = logicalId(built.stack, built.loginEvents.function);
    built.template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: { PostAuthentication: { 'Fn::GetAtt': [functionId, 'Arn'] } },
    });
    built.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'cognito-idp.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(built.stack, built.userPool), 'Arn'] },
    });
  });

  it('adds no trigger without a user pool', () => {
    const { template } = build({}, false);
    template.hasResourceProperties('AWS::Cognito::UserPool', { LambdaConfig: Match.absent() });
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'cognito-idp.amazonaws.com' }, 0);
  });

  it('is told the stream under the name the handler reads', () => {
    const built = build();
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_STREAM_NAME: { Ref: logicalId(built.stack, built.pipeline.stream) } }) },
      Timeout: 5,
      Runtime: 'nodejs24.x',
    });
    expect(loginEventsConfigFromEnvironment({ [LOGIN_EVENTS_HANDLER_ENV.streamName]: 'events' })).toEqual({ streamName: 'events' });
  });

  it('may write its logs, PutRecord on the stream and make data keys of its key through Kinesis, and nothing else', () => {
    const built = build();
    expect(roleStatements(built)).toEqual([
      expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logicalId(built.stack, built.loginEvents.logGroup), 'Arn'] } }),
      expect.objectContaining({ Action: 'kinesis:PutRecord', Resource: { 'Fn::GetAtt': [logicalId(built.stack, built.pipeline.stream), 'Arn'] } }),
      expect.objectContaining({
        Action: 'kms:GenerateDataKey',
        Resource: { 'Fn::GetAtt': [logicalId(built.stack, built.pipeline.streamKey), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'kinesis.us-east-1.amazonaws.com' } },
      }),
    ]);
    built.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('asks for no key on a stream without a customer managed key', () => {
    const stack = new Stack(new App(), 'Plain', { env: ENV });
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const loginEvents = new LoginEvents(stack, 'LoginEvents', { stream, code: INLINE });
    const statements = roleStatements({ stack, template: Template.fromStack(stack), loginEvents } as Built);
    expect(statements.map((statement) => statement.Action)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents'], 'kinesis:PutRecord']);
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(nag(build().loginEvents)).toEqual([]);
  });

  it.each([
    [{ timeout: Duration.seconds(10) }, /timeout: must be from 3 to 5 seconds/],
    [{ timeout: Duration.seconds(1) }, /timeout: must be from 3 to 5 seconds/],
    [{ code: undefined, handlerEntry: 'handler.py' }, /handlerEntry: must be a .ts or .js file exporting handler/],
  ] as const)('rejects %o', (props, message) => {
    expect(() => build(props)).toThrow(message);
    expect(() => build(props)).toThrow(LoginEventsConfigError);
  });

  it('bundles the kit\'s PostAuthentication handler with esbuild, offline', () => {
    const outdir = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'login-events-test');
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundled', { env: ENV });
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    new LoginEvents(stack, 'LoginEvents', { stream });
    const assembly = app.synth();
    const assetDirs = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assetDirs.some((dir) => existsSync(join(assembly.directory, dir, 'index.mjs')))).toBe(true);
  });
});
