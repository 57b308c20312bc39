/**
 * One server of the API benchmark, run in its own process so the load generator does not share its
 * event loop: `kit` is the Tenant Manager as deployed; `baseline` is a bare Koa route doing the same
 * one-row SELECT with pg. It prints its URL as a JSON line on stdout.
 */
import Koa from 'koa';
import pg from 'pg';
import pino from 'pino';
import { Database, createApp, createTokenVerifier } from '../control-plane/index.js';

interface ServerArgs {
  readonly kind: 'kit' | 'baseline';
  readonly databaseUrl: string;
  readonly schema: string;
  readonly poolSize: number;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ServerArgs;

function kitApp(): Koa {
  const db = new Database({ url: args.databaseUrl, schema: args.schema, poolSize: args.poolSize });
  // Request logs stay on, as deployed, written where they cost their serialization but fill no disk.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  return createApp({ db, logger, verifier: createTokenVerifier({ jwksUrl: args.jwksUrl, issuer: args.issuer, audience: args.audience }) });
}

function baselineApp(): Koa {
  const pool = new pg.Pool({ connectionString: args.databaseUrl, max: args.poolSize, options: `-c search_path=${args.schema}` });
  const app = new Koa();
  app.use(async (ctx) => {
    const match = /^\/v1\/tenants\/([0-9a-f-]{36})$/.exec(ctx.path);
    if (!match) {
      ctx.status = 404;
      return;
    }
    const { rows } = await pool.query<Record<string, unknown>>('SELECT * FROM tenants WHERE id = $1', [match[1]]);
    if (rows.length === 0) ctx.status = 404;
    else ctx.body = rows[0];
  });
  return app;
}

const app = args.kind === 'kit' ? kitApp() : baselineApp();
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
