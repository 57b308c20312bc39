/**
 * The lease table (DynamoDB): one item per shard with its owner, the lease's expiry, the checkpoint
 * and the parents. Every change a worker makes is conditional on still owning the lease, so a worker
 * whose lease was taken over cannot move the checkpoint back.
 */
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AnalyticsError, LeaseLostError } from './errors.js';

/** Checkpoint of a shard read to its end (closed by a reshard): its children may start. */
export const SHARD_END = 'SHARD_END';

export interface Lease {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  /** The worker holding it, or undefined. */
  readonly owner: string | undefined;
  /** Epoch ms; the lease is free from then on. */
  readonly leaseExpiresAt: number;
  /** Last sequence number whose effects are saved, `SHARD_END`, or undefined (read from the start). */
  readonly checkpoint: string | undefined;
}

export interface LeaseTableProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** @default Date.now */
  readonly now?: () => number;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

export class LeaseTable {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;

  public constructor(props: LeaseTableProps) {
    this.client = props.client;
    this.tableName = props.tableName;
    this.now = props.now ?? Date.now;
  }

  public async list(signal?: AbortSignal): Promise<Lease[]> {
    const leases: Lease[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }), { abortSignal: signal });
      for (const item of page.Items ?? []) {
        leases.push({
          shardId: item.shardId as string,
          parentShardIds: (item.parentShardIds as string[] | undefined) ?? [],
          owner: item.owner as string | undefined,
          leaseExpiresAt: (item.leaseExpiresAt as number | undefined) ?? 0,
          checkpoint: item.checkpoint as string | undefined,
        });
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return leases;
  }

  /** Adds a shard's lease (free, no checkpoint) unless it exists. */
  public async ensure(shardId: string, parentShardIds: readonly string[], signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { shardId, parentShardIds: [...parentShardIds], leaseExpiresAt: 0 },
          ConditionExpression: 'attribute_not_exists(shardId)',
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Takes a free or expired lease (or extends our own); false when another worker holds it. */
  public async acquire(shardId: string, owner: string, durationMs: number, signal?: AbortSignal): Promise<boolean> {
    const now = this.now();
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { shardId },
          UpdateExpression: 'SET #owner = :me, leaseExpiresAt = :expires',
          ConditionExpression: 'attribute_exists(shardId) AND (leaseExpiresAt <= :now OR #owner = :me)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':expires': now + durationMs, ':now': now },
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Extends our lease; throws a `LeaseLostError` when it is no longer ours. */
  public async renew(shardId: string, owner: string, durationMs: number, signal?: AbortSignal): Promise<void> {
    await this.ownedUpdate(shardId, owner, 'SET leaseExpiresAt = :expires', { ':expires': this.now() + durationMs }, signal);
  }

  /** Moves the checkpoint (and extends the lease); throws a `LeaseLostError` when the lease is no longer ours. */
  public async checkpoint(shardId: string, owner: string, checkpoint: string, durationMs: number, signal?: AbortSignal): Promise<void> {
    await this.ownedUpdate(shardId, owner, 'SET checkpoint = :checkpoint, leaseExpiresAt = :expires', { ':checkpoint': checkpoint, ':expires': this.now() + durationMs }, signal);
  }

  /** Gives the lease up at once (a graceful stop), so another worker need not wait for it to expire. */
  public async release(shardId: string, owner: string, signal?: AbortSignal): Promise<void> {
    await this.ownedUpdate(shardId, owner, 'SET leaseExpiresAt = :zero REMOVE #owner', { ':zero': 0 }, signal);
  }

  private async ownedUpdate(shardId: string, owner: string, update: string, values: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { shardId },
          UpdateExpression: update,
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ...values, ':me': owner },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new LeaseLostError(shardId, { cause: error });
      throw error;
    }
  }
}

/**
 * Creates the lease table (on-demand, key `shardId`) unless it exists, and waits until it is ACTIVE: for
 * local runs and tests. On AWS the CDK construct creates it.
 */
export async function ensureLeaseTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'shardId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'shardId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new AnalyticsError(`The lease table ${tableName} did not become ACTIVE within 30 s.`);
}
