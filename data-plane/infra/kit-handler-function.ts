import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

/** What every kit handler's function shares: Node.js 24 on arm64, JSON logs, source maps in stack traces. */
export interface KitHandlerFunctionProps extends Omit<lambda.FunctionOptions, 'architecture' | 'loggingFormat'> {
  /** The function's variables; `NODE_OPTIONS` for source maps is added. */
  readonly environment: Readonly<Record<string, string>>;
  /** Code given by the caller (its handler is `index.handler`); otherwise `entry` is bundled. */
  readonly code?: lambda.Code;
  /** The TypeScript file exporting `handler`, bundled with esbuild (ESM, minified, source maps). */
  readonly entry: string;
}

/** A kit handler as a Lambda function: the given code, or its entry file bundled. */
export function kitHandlerFunction(scope: Construct, id: string, props: KitHandlerFunctionProps): lambda.Function {
  const { code, entry, environment, ...options } = props;
  const common = {
    ...options,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
  };
  return code
    ? new lambda.Function(scope, id, { ...common, code, handler: 'index.handler' })
    : new nodejs.NodejsFunction(scope, id, {
        ...common,
        entry,
        handler: 'handler',
        bundling: { format: nodejs.OutputFormat.ESM, target: 'node24', sourceMap: true, minify: true },
      });
}
