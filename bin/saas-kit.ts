#!/usr/bin/env -S npx tsx
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { KIT_ROLES, issueLocalToken, type KitRole } from '../local-cloud/index.js';
import { runExecutor } from '../data-plane/index.js';
import { synthTenantManifests, writeTenantManifests } from '../k8s/index.js';
import { isTierName, type TierName } from '../tenant-tiers/index.js';
import { loadConfig, loadExecutorConfig } from './config.js';
import { LOCAL_ENDPOINTS_FILE, startControlPlane, type LocalEndpoints } from './start.js';

const USAGE = `saas-kit: the SaaS Tenancy Kit

  saas-kit start                                  run the kit on this machine (local cloud, database, APIs)
  saas-kit executor                               run a tenant's job executor (the command of its chart's
                                                  Deployment; TENANT_NAME and TENANT_TIER say whose jobs)
  saas-kit tenants manifests ID [--out DIR]       print the tenant's Kubernetes manifests (its tier's chart),
                                                  or write them as its kustomize folder under DIR
  saas-kit token --role ROLE [--tenant ID]        print an ID token of the running kit's local Cognito
                                                  ROLE: ${KIT_ROLES.join(', ')}
                                                  (tenant-admin and tenant-user need --tenant)

Configuration comes from the environment: see README.md.`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start();
    case 'token':
      return token(rest);
    case 'executor':
      return executor();
    case 'tenants':
      return tenants(rest);
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

async function start(): Promise<number> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const running = await startControlPlane(config.controlPlane, logger);
  console.log(`\nTenant Manager listening on ${running.url}  (OpenAPI: ${running.url}/openapi.json)`);
  if (running.localEndpoints) {
    console.log(`Local Cognito at ${running.localEndpoints.cognito.endpoint}. Get a token in another terminal:`);
    console.log(`  TOKEN=$(npm run -s saas-kit -- token --role onboarding)`);
    console.log(`  curl -s ${running.url}/v1/plans`);
  }
  console.log('Press Ctrl+C to stop.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('stopping');
  await running.close();
  return 0;
}

async function executor(): Promise<number> {
  const { logLevel, ...config } = loadExecutorConfig();
  const running = runExecutor({ ...config, logger: pino({ level: logLevel }) });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Finishes the step in progress and hands the job back, so another executor resumes it.
  await running.stop();
  return 0;
}

async function tenants(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], options: { out: { type: 'string' }, api: { type: 'string' }, token: { type: 'string' } }, allowPositionals: true, strict: true });
  const [subcommand, tenantId] = positionals;
  if (subcommand !== 'manifests' || !tenantId) {
    console.error(`Usage: saas-kit tenants manifests ID [--out DIR]\n\n${USAGE}`);
    return 2;
  }
  // The tenant's name and tier come from the Tenant Manager, as any client reads them: with a
  // platform-admin token of the running local kit, or --token and --api for another one.
  const config = loadConfig();
  let { api, token } = values;
  if (!api || !token) {
    const endpoints = await readLocalEndpoints(config.controlPlane.dataDir);
    if (!endpoints) return 1;
    api ??= endpoints.api;
    token ??= (await issueLocalToken(endpoints.cognito, endpoints.userPool, { role: 'platform-admin' })).idToken;
  }
  const response = await fetch(`${api}/v1/tenants/${encodeURIComponent(tenantId)}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { name?: string; tier?: string; detail?: string };
  if (!response.ok || !body.name || !isTierName(body.tier ?? '')) {
    console.error(`Could not read tenant ${tenantId}: ${response.status} ${body.detail ?? ''}`);
    return 1;
  }
  const manifests = synthTenantManifests({ tenantId, tenantName: body.name, tier: body.tier as TierName, executorImage: config.controlPlane.provisioning.executorImage });
  if (values.out) {
    console.log(await writeTenantManifests(values.out, manifests));
  } else {
    console.log(Object.values(manifests.files).join('---\n'));
  }
  return 0;
}

async function readLocalEndpoints(dataDir: string): Promise<LocalEndpoints | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, LOCAL_ENDPOINTS_FILE), 'utf8')) as LocalEndpoints;
  } catch {
    console.error('No running kit found: start it first with `npm start` (tokens come from its local Cognito), or pass --api and --token.');
    return undefined;
  }
}

async function token(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { role: { type: 'string' }, tenant: { type: 'string' }, email: { type: 'string' } }, strict: true });
  if (!values.role || !(KIT_ROLES as readonly string[]).includes(values.role)) {
    console.error(`--role must be one of ${KIT_ROLES.join(', ')}; got ${values.role ?? 'nothing'}.`);
    return 2;
  }
  const endpoints = await readLocalEndpoints(loadConfig().controlPlane.dataDir);
  if (!endpoints) return 1;
  const issued = await issueLocalToken(endpoints.cognito, endpoints.userPool, {
    role: values.role as KitRole,
    ...(values.tenant ? { tenantId: values.tenant } : {}),
    ...(values.email ? { email: values.email } : {}),
  });
  console.log(issued.idToken);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
