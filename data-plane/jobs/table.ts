/**
 * The single DynamoDB table of jobs, datasets, objects and their pending events. The definition below is
 * the one contract with the CDK side (data-plane/infra builds the same table from `JOBS_TABLE`).
 */
import { CreateTableCommand, ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';

/** Attribute and index names of the table. */
export const JOBS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Sparse GSI of work for executors: QUEUED jobs oldest first, RUNNING jobs by lease expiry. */
  workIndex: { name: 'work', partitionKey: 'workKey', sortKey: 'workSort' },
  /** Sparse GSI of items holding events not yet on the stream, by outbox shard and age. */
  outboxIndex: { name: 'outbox', partitionKey: 'outboxShard', sortKey: 'outboxSince' },
  /** Epoch seconds: DynamoDB TTL removes idempotency claims and dataset tombstones after it. */
  timeToLiveAttribute: 'expiresAt',
} as const;

/**
 * Items with pending events spread over this many GSI partitions (`OUTBOX#0` ..), by tenant, so one busy
 * tenant does not make one hot partition. Writers and relays must agree: change it only with an empty outbox.
 */
export const OUTBOX_SHARDS = 8;

/** Keys of each kind of item. */
export const keys = {
  tenant: (tenantId: string) => `TENANT#${tenantId}`,
  job: (jobId: string) => `JOB#${jobId}`,
  dataset: (datasetId: string) => `DATASET#${datasetId}`,
  datasetName: (name: string) => `DATASETNAME#${name}`,
  object: (key: string) => `OBJECT#${key}`,
  idempotency: (caller: string, key: string) => `IDEMPOTENCY#${caller}#${key}`,
  queued: (placementKey: string) => `QUEUED#${placementKey}`,
  running: (placementKey: string) => `RUNNING#${placementKey}`,
  outboxShard: (tenantId: string) => `OUTBOX#${createHash('md5').update(tenantId).digest().readUInt32BE(0) % OUTBOX_SHARDS}`,
  /** Lease expiry as a fixed-width string, so the GSI sorts it as a number. */
  lease: (epochMs: number) => String(epochMs).padStart(15, '0'),
} as const;

/** The CreateTable input: on-demand, the two sparse GSIs. TTL is set separately (UpdateTimeToLive). */
export function jobsTableDefinition(tableName: string) {
  const { partitionKey, sortKey, workIndex, outboxIndex } = JOBS_TABLE;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [partitionKey, sortKey, workIndex.partitionKey, workIndex.sortKey, outboxIndex.partitionKey, outboxIndex.sortKey].map((AttributeName) => ({
      AttributeName,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' as const },
      { AttributeName: sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [workIndex, outboxIndex].map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

/** Creates the table for local runs and tests; an existing table of that name is left as it is. */
export async function createJobsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(jobsTableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
