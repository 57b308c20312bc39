/**
 * `LoginEvents`: the AWS side of `user.login`. A Lambda for Cognito's PostAuthentication trigger
 * (data-plane/identity-events) that puts one `user.login` per tenant user's sign-in on the central event
 * stream, with only the rights that takes, and the trigger on the user pool when one is given.
 */
import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LOGIN_EVENTS_ENV } from '../identity-events/environment.js';
import { LoginEventsConfigError } from './errors.js';
import { kitHandlerFunction } from './kit-handler-function.js';

/** Environment variables the PostAuthentication Lambda reads (`loginEventsConfigFromEnvironment` in data-plane/identity-events). */
export const LOGIN_EVENTS_HANDLER_ENV = LOGIN_EVENTS_ENV;

/** Where the handler is, relative to the repository: `data-plane/identity-events/lambda-handler.ts`, exporting `handler`. */
export const DEFAULT_LOGIN_EVENTS_HANDLER_ENTRY = fileURLToPath(new URL('../identity-events/lambda-handler.ts', import.meta.url));

/** Cognito waits this long for a trigger, then retries it and finally fails the sign-in. */
const COGNITO_TRIGGER_LIMIT = Duration.seconds(5);

export interface LoginEventsProps {
  /** The central event stream the `user.login` events go to (`AnalyticsPipeline.stream`). */
  readonly stream: kinesis.IStream;
  /**
   * The user pool whose sign-ins are reported: the function becomes its PostAuthentication trigger.
   * @default - no trigger is added; call `userPool.addTrigger(UserPoolOperation.POST_AUTHENTICATION, loginEvents.function)`
   */
  readonly userPool?: cognito.UserPool;
  /**
   * The Lambda's code. Give it to skip bundling (tests pass `Code.fromInline`, a pipeline a prebuilt asset).
   * @default - `handlerEntry` bundled with esbuild
   */
  readonly code?: lambda.Code;
  /**
   * TypeScript file bundled as the Lambda when `code` is not given; it exports `handler`.
   * @default `data-plane/identity-events/lambda-handler.ts`
   */
  readonly handlerEntry?: string;
  /**
   * The function's timeout. Cognito waits 5 seconds for a trigger; the handler gives up on the stream
   * after 2 seconds (and logs the event), so the sign-in never waits longer than that.
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
  /**
   * Days the function's logs (among them the events it could not deliver, to replay) are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

export class LoginEvents extends Construct {
  public readonly function: lambda.Function;
  public readonly logGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: LoginEventsProps) {
    super(scope, id);
    validate(props);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS });
    // Its own role, so no AWS managed policy, and nothing more than the function uses: logs to its group,
    // PutRecord on the stream (not PutRecords, nor ListShards as stream.grantWrite would add), and a data
    // key of the stream's key when the stream is KMS-encrypted with one.
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kinesis:PutRecord'], resources: [props.stream.streamArn] }));
    if (props.stream.encryptionKey !== undefined) {
      role.addToPolicy(new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [props.stream.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `kinesis.${Stack.of(this).region}.amazonaws.com` } },
      }));
    }

    this.function = kitHandlerFunction(this, 'Handler', {
      memorySize: 256,
      timeout: props.timeout ?? COGNITO_TRIGGER_LIMIT,
      role,
      logGroup: this.logGroup,
      environment: { [LOGIN_EVENTS_HANDLER_ENV.streamName]: props.stream.streamName },
      ...(props.code ? { code: props.code } : {}),
      entry: props.handlerEntry ?? DEFAULT_LOGIN_EVENTS_HANDLER_ENTRY,
    });

    props.userPool?.addTrigger(cognito.UserPoolOperation.POST_AUTHENTICATION, this.function);
  }
}

function validate(props: LoginEventsProps): void {
  if (props.stream === undefined) {
    throw new LoginEventsConfigError('stream', props.stream, 'is required: pass the central event stream (AnalyticsPipeline.stream)');
  }
  const seconds = props.timeout?.toSeconds();
  if (seconds !== undefined && (seconds < 3 || seconds > COGNITO_TRIGGER_LIMIT.toSeconds())) {
    throw new LoginEventsConfigError('timeout', `${seconds} s`, 'must be from 3 to 5 seconds: Cognito waits 5 seconds for a trigger, and the handler needs 2 for its attempts');
  }
  if (props.code === undefined && props.handlerEntry !== undefined && !/\.(ts|js|mjs|mts)$/.test(props.handlerEntry)) {
    throw new LoginEventsConfigError('handlerEntry', props.handlerEntry, 'must be a .ts or .js file exporting handler');
  }
}
