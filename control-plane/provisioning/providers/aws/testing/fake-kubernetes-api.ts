/**
 * A tiny in-process Kubernetes API server speaking the few endpoints the server-side applier uses:
 * discovery (`/api/v1`, `/apis/{group}/{version}`), apply (PATCH `application/apply-patch+yaml`),
 * list with label selector and `limit`/`continue`, and delete. It keeps objects in memory, refuses
 * an object whose namespace does not exist (or is terminating) as the API server does, and records
 * every request for tests to assert on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, Server as TlsServerClass, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { KubernetesObjectClient } from '../kubernetes.js';
import { kubernetesObjectClient } from './kubernetes-client.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

interface Resource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** What the cluster serves, per group version; the applier's kinds plus Pod. */
export const DEFAULT_RESOURCES: Readonly<Record<string, readonly Resource[]>> = {
  v1: [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'resourcequotas', kind: 'ResourceQuota', namespaced: true },
    { name: 'limitranges', kind: 'LimitRange', namespaced: true },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
    { name: 'pods', kind: 'Pod', namespaced: true },
  ],
  'apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
  'networking.k8s.io/v1': [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }],
  'rbac.authorization.k8s.io/v1': [
    { name: 'roles', kind: 'Role', namespaced: true },
    { name: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  ],
  'admissionregistration.k8s.io/v1': [
    { name: 'validatingadmissionpolicies', kind: 'ValidatingAdmissionPolicy', namespaced: false },
    { name: 'validatingadmissionpolicybindings', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false },
  ],
};

export interface FakeKubernetesApiOptions {
  /** Group versions served and their resources. @default - core, apps, networking, rbac and admissionregistration v1 */
  readonly resources?: Readonly<Record<string, readonly Resource[]>>;
  /** Largest page a list answers, whatever `limit` asks (servers may answer fewer). @default 500 */
  readonly pageSize?: number;
  /** Serve HTTPS with this key and certificate (PEM), as EKS does. @default - plain HTTP */
  readonly tls?: { readonly key: string; readonly cert: string };
}

type Stored = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string; namespace?: string; labels?: Record<string, string> } };

export class FakeKubernetesApi {
  readonly requests: RecordedRequest[] = [];
  /** When set, deleting a namespace only marks it terminating (finalizers still running), as a slow cluster would. */
  slowNamespaceDeletion = false;
  /** Answer the next requests with this status instead (429, 500...). */
  failNext: { status: number; times: number } | undefined;
  private readonly objects = new Map<string, { apiVersion: string; kind: string; object: Stored }>();
  private readonly server: Server | TlsServer;
  private readonly resources: Readonly<Record<string, readonly Resource[]>>;
  private readonly pageSize: number;
  private resourceVersion = 1;

  private constructor(options: FakeKubernetesApiOptions) {
    this.resources = options.resources ?? DEFAULT_RESOURCES;
    this.pageSize = options.pageSize ?? 500;
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      void this.handle(request, response);
    };
    this.server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createServer(handler);
  }

  static async start(options: FakeKubernetesApiOptions = {}): Promise<FakeKubernetesApi> {
    const api = new FakeKubernetesApi(options);
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `${this.server instanceof TlsServerClass ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A client of this server, authenticating with a bearer token. */
  client(token = 'test-token'): KubernetesObjectClient {
    return kubernetesObjectClient(this.url, token);
  }

  /** `Kind/namespace/name` (or `Kind/name`) of every stored object, sorted. */
  stored(): string[] {
    return [...this.objects.values()]
      .map(({ kind, object }) => (object.metadata.namespace === undefined ? `${kind}/${object.metadata.name}` : `${kind}/${object.metadata.namespace}/${object.metadata.name}`))
      .sort();
  }

  /** A stored object, as the server would return it. */
  get(kind: string, name: string, namespace?: string): Stored | undefined {
    return [...this.objects.values()].find((entry) => entry.kind === kind && entry.object.metadata.name === name && entry.object.metadata.namespace === namespace)?.object;
  }

  requestsOf(method: string): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const raw = await readBody(request);
    const body: unknown = raw === '' ? undefined : JSON.parse(raw);
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: request.headers['content-type'],
      authorization: request.headers.authorization,
      body,
    });
    if (this.failNext !== undefined && this.failNext.times > 0) {
      this.failNext.times -= 1;
      const status = this.failNext.status;
      return send(response, status, failure(status, status === 429 ? 'TooManyRequests' : 'InternalError', 'injected failure'));
    }

    const route = this.route(url.pathname);
    if (route === undefined) {
      return send(response, 404, failure(404, 'NotFound', 'the server could not find the requested resource'));
    }
    if ('discovery' in route) {
      return send(response, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: route.discovery, resources: this.discovery(route.discovery) });
    }
    const { apiVersion, resource, namespace, name } = route;
    switch (request.method) {
      case 'PATCH':
        return this.apply(response, request.headers['content-type'], url.searchParams, apiVersion, resource, namespace, name, body);
      case 'GET':
        if (name === undefined) {
          return this.list(response, url.searchParams, apiVersion, resource, namespace);
        }
        break;
      case 'DELETE':
        if (name !== undefined) {
          return this.delete(response, apiVersion, resource, namespace, name);
        }
        break;
    }
    send(response, 405, failure(405, 'MethodNotAllowed', `${request.method} ${url.pathname} is not supported by the fake`));
  }

  private discovery(groupVersion: string): unknown[] {
    return (this.resources[groupVersion] ?? []).map((resource) => ({
      name: resource.name,
      singularName: resource.kind.toLowerCase(),
      namespaced: resource.namespaced,
      kind: resource.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    }));
  }

  private route(pathname: string): { discovery: string } | { apiVersion: string; resource: Resource; namespace?: string; name?: string } | undefined {
    const parts = pathname.split('/').filter((part) => part !== '');
    let apiVersion: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) {
      apiVersion = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      apiVersion = `${parts[1]}/${parts[2]}`;
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    const served = this.resources[apiVersion];
    if (served === undefined) {
      return undefined;
    }
    if (rest.length === 0) {
      return { discovery: apiVersion };
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const resource = served.find((candidate) => candidate.name === rest[0]);
    if (resource === undefined || rest.length > 2 || (namespace !== undefined && !resource.namespaced)) {
      return undefined;
    }
    if (namespace === undefined && resource.namespaced && rest.length === 2) {
      return undefined; // A namespaced object is only reached through its namespace.
    }
    return { apiVersion, resource, ...(namespace === undefined ? {} : { namespace }), ...(rest[1] === undefined ? {} : { name: rest[1] }) };
  }

  private apply(
    response: ServerResponse,
    contentType: string | undefined,
    query: URLSearchParams,
    apiVersion: string,
    resource: Resource,
    namespace: string | undefined,
    name: string | undefined,
    body: unknown,
  ): void {
    if (contentType !== 'application/apply-patch+yaml') {
      return send(response, 415, failure(415, 'UnsupportedMediaType', `the fake only takes server-side apply, not ${contentType}`));
    }
    if (!query.get('fieldManager')) {
      return send(response, 422, failure(422, 'Invalid', 'fieldManager is required for apply requests'));
    }
    const object = body as Stored;
    if (name === undefined || object.kind !== resource.kind || object.apiVersion !== apiVersion || object.metadata?.name !== name) {
      return send(response, 400, failure(400, 'BadRequest', `the body (${String(object.apiVersion)} ${String(object.kind)} ${String(object.metadata?.name)}) does not match the path`));
    }
    if (namespace !== undefined) {
      const owner = this.get('Namespace', namespace);
      if (owner === undefined) {
        return send(response, 404, failure(404, 'NotFound', `namespaces "${namespace}" not found`));
      }
      if (owner.metadata.deletionTimestamp !== undefined) {
        return send(response, 403, {
          ...failure(403, 'Forbidden', `${resource.name} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`),
          details: { name, kind: resource.name, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] },
        });
      }
    }
    const key = this.key(apiVersion, resource.kind, namespace, name);
    const existing = this.objects.get(key);
    this.resourceVersion += 1;
    const stored: Stored = {
      ...object,
      metadata: {
        ...object.metadata,
        ...(namespace === undefined ? {} : { namespace }),
        uid: existing?.object.metadata.uid ?? `uid-${this.resourceVersion}`,
        // Applying never undoes a deletion in progress.
        ...(existing?.object.metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: existing.object.metadata.deletionTimestamp }),
        resourceVersion: String(this.resourceVersion),
      },
    };
    this.objects.set(key, { apiVersion, kind: resource.kind, object: stored });
    send(response, existing === undefined ? 201 : 200, { apiVersion, kind: resource.kind, ...stored });
  }

  private list(response: ServerResponse, query: URLSearchParams, apiVersion: string, resource: Resource, namespace: string | undefined): void {
    const selector = parseSelector(query.get('labelSelector'));
    const matching = [...this.objects.entries()]
      .filter(([, entry]) => entry.apiVersion === apiVersion && entry.kind === resource.kind)
      .filter(([, entry]) => namespace === undefined || entry.object.metadata.namespace === namespace)
      .filter(([, entry]) => Object.entries(selector).every(([key, value]) => entry.object.metadata.labels?.[key] === value))
      .sort(([a], [b]) => a.localeCompare(b));
    const limit = Math.min(Number(query.get('limit') ?? Infinity), this.pageSize);
    const start = Number(query.get('continue') ?? 0);
    const page = matching.slice(start, start + limit);
    const next = start + limit < matching.length ? String(start + limit) : undefined;
    send(response, 200, {
      apiVersion,
      kind: `${resource.kind}List`,
      metadata: { resourceVersion: String(this.resourceVersion), ...(next === undefined ? {} : { continue: next }) },
      // Items of a list carry no kind or apiVersion, as the API server answers.
      items: page.map(([, entry]) => Object.fromEntries(Object.entries(entry.object).filter(([field]) => field !== 'apiVersion' && field !== 'kind'))),
    });
  }

  private delete(response: ServerResponse, apiVersion: string, resource: Resource, namespace: string | undefined, name: string): void {
    const key = this.key(apiVersion, resource.kind, namespace, name);
    const existing = this.objects.get(key);
    if (existing === undefined) {
      return send(response, 404, failure(404, 'NotFound', `${resource.name} "${name}" not found`));
    }
    if (resource.kind === 'Namespace' && this.slowNamespaceDeletion) {
      existing.object.metadata.deletionTimestamp = new Date(0).toISOString();
      (existing.object as Record<string, unknown>).status = { phase: 'Terminating' };
      return send(response, 200, { apiVersion, kind: resource.kind, ...existing.object });
    }
    this.objects.delete(key);
    if (resource.kind === 'Namespace') {
      for (const [otherKey, entry] of this.objects) {
        if (entry.object.metadata.namespace === name) {
          this.objects.delete(otherKey);
        }
      }
    }
    send(response, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: resource.name } });
  }

  private key(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
    return `${apiVersion}|${kind}|${namespace ?? ''}|${name}`;
  }
}

function parseSelector(selector: string | null): Record<string, string> {
  if (selector === null || selector === '') {
    return {};
  }
  return Object.fromEntries(
    selector.split(',').map((term) => {
      const [key, value] = term.split('=');
      return [key ?? '', value ?? ''];
    }),
  );
}

function failure(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
