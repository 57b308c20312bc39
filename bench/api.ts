import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Database, TenantService } from '../control-plane/index.js';
import { ensureKitUserPool, issueLocalToken, startLocalCognito } from '../local-cloud/index.js';

export interface ApiBenchOptions {
  /** Write a CPU profile of each server process into this folder (for finding where time goes). */
  readonly profileDir?: string;
  readonly databaseUrl: string;
  /** Seconds of measured load per round and server. */
  readonly seconds: number;
  readonly rounds: number;
  readonly connections: number;
}

interface Run {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly p50Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  /** CPU time (user + system) the server process spent per request: steadier than req/s on a shared machine. */
  readonly serverCpuUsPerRequest: number | null;
}

/**
 * `GET /v1/tenants/{id}` with a tenant-admin token against the real Postgres server, 50 connections,
 * against a bare Koa + pg route doing the same SELECT. Rounds alternate kit and baseline so both
 * see the same machine; the medians are reported, and the ratio is the median of the per-round ratios.
 */
export async function benchApi(options: ApiBenchOptions) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const db = new Database({ url: options.databaseUrl, schema });
  const cognito = await startLocalCognito();
  try {
    await db.migrate();
    const service = new TenantService(db);
    await service.syncPlans();
    // A few hundred tenants, so the lookup is an index probe like in a real table.
    const onboarding = { kind: 'platform', subject: 'bench', role: 'onboarding' } as const;
    let tenantId = '';
    for (let i = 0; i < 300; i += 1) {
      const registration = await service.register(onboarding, randomUUID(), { name: `bench-${i}`, plan: 'standard', adminEmail: `admin@bench-${i}.example` });
      tenantId = registration.tenant.id;
    }
    const pool = await ensureKitUserPool(cognito);
    const token = (await issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId })).idToken;
    const serverArgs = { databaseUrl: options.databaseUrl, schema, poolSize: 10, jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: pool.clientId };

    const runs: Record<'kit' | 'baseline', Run[]> = { kit: [], baseline: [] };
    for (let round = 0; round < options.rounds; round += 1) {
      // Alternate which server goes first, so neither always meets the machine in the same state.
      const order = round % 2 === 0 ? (['kit', 'baseline'] as const) : (['baseline', 'kit'] as const);
      for (const kind of order) {
        const server = await startServer({ kind, ...serverArgs }, options.profileDir);
        try {
          const url = `${server.url}/v1/tenants/${tenantId}`;
          const headers = { authorization: `Bearer ${token}` };
          await load(url, headers, options.connections, 3); // warm-up: JIT, pools, the JWKS fetch
          const cpuBefore = await server.cpuMs();
          const measured = await load(url, headers, options.connections, options.seconds);
          const cpuAfter = await server.cpuMs();
          const requests = measured.requestsPerSecond * options.seconds;
          const run = { ...measured, serverCpuUsPerRequest: cpuBefore === null || cpuAfter === null ? null : Math.round(((cpuAfter - cpuBefore) * 1000) / requests) };
          if (run.errors > 0 || run.non2xx > 0) throw new Error(`${kind} answered ${run.non2xx} non-2xx and ${run.errors} errors: the comparison would be meaningless.`);
          runs[kind].push(run);
          process.stderr.write(`api bench round ${round + 1}/${options.rounds} ${kind}: ${run.requestsPerSecond.toFixed(0)} req/s, p99 ${run.p99Ms} ms, server CPU ${run.serverCpuUsPerRequest ?? '?'} us/request\n`);
        } finally {
          server.stop();
        }
      }
    }
    const roundRatios = runs.kit.map((run, i) => run.requestsPerSecond / (runs.baseline[i]?.requestsPerSecond ?? Number.NaN));
    const ratio = round3(median(roundRatios));
    const kit = summarize(runs.kit);
    const baseline = summarize(runs.baseline);
    return {
      benchmark: 'GET /v1/tenants/{id}, tenant-admin token, real Postgres',
      connections: options.connections,
      secondsPerRun: options.seconds,
      rounds: options.rounds,
      kit,
      baseline,
      ratio,
      ratioPerRound: roundRatios.map(round3),
      target: 0.6,
      meetsTarget: ratio >= 0.6,
      runs,
    };
  } finally {
    await db.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]).catch(() => undefined);
    await db.destroy();
    await cognito.stop();
  }
}

interface BenchServer {
  readonly url: string;
  /** CPU milliseconds the process has used so far, from /proc (null where there is none). */
  cpuMs(): Promise<number | null>;
  stop(): void;
}

async function startServer(args: Record<string, unknown>, profileDir?: string): Promise<BenchServer> {
  const profiling = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child: ChildProcess = spawn(process.execPath, [...profiling, '--import', 'tsx', new URL('./api-server.ts', import.meta.url).pathname, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const ticksPerSecond = 100; // USER_HZ on Linux
  return {
    url,
    async cpuMs() {
      try {
        const fields = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
      } catch {
        return null;
      }
    },
    stop: () => child.kill('SIGTERM'),
  };
}

async function load(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<Omit<Run, 'serverCpuUsPerRequest'>> {
  const result = await autocannon({ url, connections, duration: seconds, headers });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function summarize(runs: readonly Run[]) {
  const cpu = runs.map((r) => r.serverCpuUsPerRequest).filter((v): v is number => v !== null);
  return {
    requestsPerSecond: Math.round(median(runs.map((r) => r.requestsPerSecond))),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    serverCpuUsPerRequest: cpu.length > 0 ? median(cpu) : null,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

