/**
 * The Lambda entry point (handler `lambda-handler.handler`): the only file of the analytics consumer that
 * reads the environment, once, at cold start.
 */
import { createHandler, lambdaConfigFromEnvironment } from './lambda.js';

export const handler = createHandler(lambdaConfigFromEnvironment(process.env));
