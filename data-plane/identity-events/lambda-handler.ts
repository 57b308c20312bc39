/**
 * The Lambda entry point of the PostAuthentication trigger (handler `lambda-handler.handler`): the only
 * file of the identity events that reads the environment, once, at cold start.
 */
import type { PostAuthenticationTriggerHandler } from 'aws-lambda';
import { createLoginEventsHandler, loginEventsConfigFromEnvironment } from './login-events.js';

export const handler: PostAuthenticationTriggerHandler = createLoginEventsHandler(loginEventsConfigFromEnvironment(process.env));
