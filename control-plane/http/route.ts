import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import type { Principal } from '../auth/principal.js';
import { BadRequestError, type FieldError } from '../errors.js';

type Schema = z.ZodType;
type Infer<S> = S extends Schema ? z.infer<S> : undefined;

export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteInput<P, Q, B, H> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly headers: H;
  /** The verified caller; routes marked `public` get none. */
  readonly principal: Principal;
  readonly ctx: Context;
}

/**
 * One route, declared once: its schemas validate the request and generate its OpenAPI
 * operation, so the document cannot disagree with what the API accepts.
 */
export interface RouteSpec<P extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined, H extends Schema | undefined = Schema | undefined> {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI-style path, e.g. `/v1/tenants/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tags?: readonly string[];
  /** No token needed. @default false */
  readonly public?: boolean;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly headers?: H;
  readonly responses: ZodOpenApiOperationObject['responses'];
  readonly handle: (input: RouteInput<Infer<P>, Infer<Q>, Infer<B>, Infer<H>>) => Promise<RouteResult> | RouteResult;
}

export function defineRoute<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined, H extends Schema | undefined = undefined>(
  spec: RouteSpec<P, Q, B, H>,
): RouteSpec {
  return spec;
}

/**
 * Registers routes on a Koa router: `authenticate` runs before every non-public route, and the
 * JSON body parser only on routes that take a body.
 */
export function mountRoutes(router: Router, routes: readonly RouteSpec[], authenticate: Middleware, parseBody: Middleware): void {
  for (const route of routes) {
    const koaPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    const handler: Middleware = async (ctx) => {
      const input = {
        params: parse(route.params, ctx.params, 'path'),
        query: parse(route.query, ctx.query, 'query'),
        body: parse(route.body, ctx.request.body, 'body'),
        headers: parse(route.headers, ctx.headers, 'header'),
        principal: (ctx.state as { principal: Principal }).principal,
        ctx,
      };
      const result = await route.handle(input);
      ctx.status = result.status;
      for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
      if (result.body !== undefined) ctx.body = result.body;
    };
    const middleware = [...(route.public ? [] : [authenticate]), ...(route.body ? [parseBody] : []), handler];
    router[route.method](route.operationId, koaPath, ...middleware);
  }
}

function parse(schema: Schema | undefined, value: unknown, where: FieldError['in']): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue): FieldError[] => {
    // Unknown keys are reported one by one so each can be fixed where it stands.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ in: where, pointer: toPointer([...issue.path, key]), detail: `"${key}" is not a known field: remove it.` }));
    }
    return [{ in: where, pointer: toPointer(issue.path), detail: issue.message }];
  });
  const summary = errors.map((e) => `${e.in} ${e.pointer}: ${e.detail}`).join('; ');
  throw new BadRequestError(`The request ${where} is invalid: ${summary}`, { errors });
}

function toPointer(path: readonly PropertyKey[]): string {
  return '#' + path.map((part) => '/' + String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** The `paths` of the OpenAPI document, from the same route specs. */
export function openApiPaths(routes: readonly RouteSpec[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const requestParams: NonNullable<ZodOpenApiOperationObject['requestParams']> = {};
    if (route.params) requestParams.path = route.params as never;
    if (route.query) requestParams.query = route.query as never;
    if (route.headers) requestParams.header = route.headers as never;
    const operation: ZodOpenApiOperationObject = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.tags ? { tags: [...route.tags] } : {}),
      ...(route.public ? { security: [] } : {}),
      requestParams,
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      responses: route.responses,
    };
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  }
  return paths;
}
