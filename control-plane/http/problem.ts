import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ControlPlaneError, type FieldError } from '../errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://saas-tenancy-kit.dev/problems/';

/** RFC 9457 problem details, with the failing fields in `errors`. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly errors?: readonly FieldError[];
}

/**
 * First in the chain: turns every thrown error into problem+json. Domain errors say what to fix;
 * http-errors from Koa's own middleware (body too large, ...) keep their status; anything else is
 * a 500 whose detail never carries SQL or a stack trace, only the request id to find it in the logs.
 */
export function problemMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new RouteNotFound(`No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (error) {
      const problem = toProblem(error, ctx.path, ctx.state);
      if (problem.status >= 500) {
        logger.error({ err: error, requestId: (ctx.state as { requestId?: string }).requestId }, 'request failed');
      }
      ctx.status = problem.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
      ctx.body = problem;
      if (problem.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
    }
  };
}

class RouteNotFound extends ControlPlaneError {
  override readonly status = 404;
  override readonly title = 'Not found';
}

function toProblem(error: unknown, path: string, state: { requestId?: string }): Problem {
  if (error instanceof ControlPlaneError) {
    return {
      type: PROBLEM_TYPE_BASE + error.type,
      title: error.title,
      status: error.status,
      detail: error.message,
      instance: path,
      ...(error.errors.length > 0 ? { errors: error.errors } : {}),
    };
  }
  // Errors of Koa and its body parser carry a 4xx status; their messages are shown only when
  // marked safe to expose, otherwise a fixed text per status stands in.
  const httpError = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    const known = KNOWN_HTTP_ERRORS[httpError.status] ?? { title: 'Request rejected', detail: 'The request was rejected.' };
    return {
      type: PROBLEM_TYPE_BASE + known.title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      title: known.title,
      status: httpError.status,
      detail: httpError.expose === true && typeof httpError.message === 'string' ? httpError.message : known.detail,
      instance: path,
    };
  }
  return {
    type: PROBLEM_TYPE_BASE + 'internal-error',
    title: 'Internal error',
    status: 500,
    detail: `The request failed on our side; quote request id ${state.requestId ?? 'unknown'} when reporting it.`,
    instance: path,
  };
}

const KNOWN_HTTP_ERRORS: Readonly<Record<number, { title: string; detail: string }>> = {
  400: { title: 'Malformed request', detail: 'The request body is not valid JSON: send a JSON object.' },
  405: { title: 'Method not allowed', detail: 'This route does not take that method: see /openapi.json.' },
  413: { title: 'Payload too large', detail: 'The request body is over the size limit.' },
  415: { title: 'Unsupported media type', detail: 'Send the body as application/json.' },
};
