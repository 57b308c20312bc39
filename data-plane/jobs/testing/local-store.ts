// Test support: dynalite with a fresh jobs table, and document clients for it.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoDbClientConfig, startLocalDynamoDb, type LocalDynamoDb } from '../../../local-cloud/index.js';
import { JobRepository, type JobRepositoryProps } from '../repository.js';
import { createJobsTable } from '../table.js';

export interface TestJobStore {
  readonly dynamo: LocalDynamoDb;
  readonly client: DynamoDBDocumentClient;
  /** A new table with the jobs layout; each test file (or test) may take its own. */
  newTable(): Promise<string>;
  repository(tableName: string, props?: Partial<Omit<JobRepositoryProps, 'tableName'>>): JobRepository;
  stop(): Promise<void>;
}

export async function startTestJobStore(): Promise<TestJobStore> {
  const dynamo = await startLocalDynamoDb();
  const raw = new DynamoDBClient(localDynamoDbClientConfig(dynamo));
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    dynamo,
    client,
    newTable: async () => {
      const name = `jobs-${randomUUID().slice(0, 8)}`;
      await createJobsTable(raw, name);
      return name;
    },
    repository: (tableName, props = {}) => new JobRepository({ client, tableName, eventSource: 'control-plane/job-manager', ...props }),
    stop: async () => {
      client.destroy();
      await dynamo.stop();
    },
  };
}
