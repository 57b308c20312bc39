/**
 * `npm run bench`: runs the benchmarks and writes each result as JSON under bench/results/.
 * Every figure is a ratio against a baseline measured in the same run: the machines are shared.
 *   npm run bench               all benchmarks
 *   npm run bench -- api        only the API benchmark
 *   npm run bench -- analytics  only the analytics aggregator
 *   npm run bench -- provisioning  tenant onboarding latency, 1,000 in a row, bridge stack synthesis
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { benchAnalytics } from './analytics.js';
import { benchApi } from './api.js';
import { benchProvisioning } from './provisioning.js';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const only = process.argv.slice(2);

const benchmarks: Record<string, () => Promise<unknown>> = {
  analytics: () => benchAnalytics({ events: Number(process.env.BENCH_ANALYTICS_EVENTS ?? 300_000), rounds: Number(process.env.BENCH_ROUNDS ?? 5), memoryEvents: [1_000_000, 10_000_000], tenants: 1_000, producer: { records: 40_000, rounds: 7, shards: 4 } }),
  api: () => benchApi({ databaseUrl: DATABASE_URL, seconds: Number(process.env.BENCH_SECONDS ?? 10), rounds: Number(process.env.BENCH_ROUNDS ?? 5), connections: 50, ...(process.env.BENCH_PROFILE_DIR ? { profileDir: process.env.BENCH_PROFILE_DIR } : {}) }),
  provisioning: () => benchProvisioning({ databaseUrl: DATABASE_URL, tenantsPerTier: Number(process.env.BENCH_PROVISIONING_PER_TIER ?? 20), tenantsInARow: Number(process.env.BENCH_PROVISIONING_TENANTS ?? 1000) }),
};

const resultsDir = new URL('./results/', import.meta.url);
await mkdir(resultsDir, { recursive: true });
for (const [name, run] of Object.entries(benchmarks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const result = await run();
  const document = { ...(result as object), measuredAt: new Date().toISOString(), machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version } };
  await writeFile(new URL(`${name}.json`, resultsDir), JSON.stringify(document, null, 2) + '\n');
  console.log(`${name}: ${JSON.stringify(result, (key, value: unknown) => (key === 'runs' ? undefined : value))}`);
}
