import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { UnsupportedMediaTypeError } from '../errors.js';

export interface JsonBodyOptions {
  /** @default '64kb' */
  readonly limit?: string;
}

/**
 * Parses JSON bodies of POST, PUT and PATCH. A body of another type is a 415 (never silently
 * ignored); malformed JSON is a 400 and a body over the limit a 413, both from co-body.
 */
export function jsonBody(options: JsonBodyOptions = {}): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: options.limit ?? '64kb', jsonStrict: true });
  return async (ctx, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && ctx.request.length !== 0 && ctx.request.is('json') === false) {
      throw new UnsupportedMediaTypeError(
        `Content-Type "${ctx.get('content-type') || '(none)'}" is not accepted: send the body as application/json.`,
      );
    }
    await parse(ctx, next);
  };
}
