// Test support: wraps a real KinesisClient so that tests see what Kinesis does under load, with no mock.
// Each helper adds a step to the client's middleware stack; the real server still receives every request
// that is let through.
import type { KinesisClient, PutRecordsCommandInput, PutRecordsCommandOutput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';

const PUT_RECORDS = 'PutRecordsCommand';

export interface InjectedFailures {
  /** Entries failed so far (never sent to the server). */
  readonly injected: number;
}

export interface InjectFailuresOptions {
  /** Share of PutRecords entries to fail, from 0 to 1. */
  readonly rate: number;
  /** @default 'ProvisionedThroughputExceededException' */
  readonly errorCode?: string;
  /** @default Math.random */
  readonly random?: () => number;
}

/**
 * Fails a random share of the entries of every PutRecords call the way Kinesis does: the chosen entries are
 * taken out of the request (so the server never stores them), and the answer gets, at their positions,
 * `{ ErrorCode, ErrorMessage }` entries, with `FailedRecordCount` raised to match.
 */
export function injectPutRecordsFailures(client: KinesisClient, options: InjectFailuresOptions): InjectedFailures {
  const errorCode = options.errorCode ?? 'ProvisionedThroughputExceededException';
  const random = options.random ?? Math.random;
  const state = { injected: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== PUT_RECORDS) {
        return next(args);
      }
      const input = args.input as PutRecordsCommandInput;
      const records = input.Records ?? [];
      const kept: number[] = [];
      const dropped: number[] = [];
      records.forEach((_, index) => (random() < options.rate ? dropped : kept).push(index));
      if (dropped.length === 0) {
        return next(args);
      }
      state.injected += dropped.length;

      let output: PutRecordsCommandOutput = { $metadata: {}, Records: [], FailedRecordCount: 0 };
      let response: unknown = {};
      if (kept.length > 0) {
        const result = await next({ ...args, input: { ...input, Records: kept.map((index) => records[index]) } });
        output = result.output as PutRecordsCommandOutput;
        response = result.response;
      }
      const entries: PutRecordsResultEntry[] = new Array<PutRecordsResultEntry>(records.length);
      kept.forEach((index, position) => {
        entries[index] = output.Records?.[position] ?? { ErrorCode: 'InternalFailure', ErrorMessage: 'missing result' };
      });
      dropped.forEach((index) => {
        entries[index] = {
          ErrorCode: errorCode,
          ErrorMessage: errorCode === 'InternalFailure' ? 'Internal service failure.' : 'Rate exceeded for shard shardId-000000000000 in stream events under account 000000000000.',
        };
      });
      return {
        response,
        output: { ...output, Records: entries, FailedRecordCount: (output.FailedRecordCount ?? 0) + dropped.length },
      };
    },
    { step: 'initialize', name: 'injectPutRecordsFailures', priority: 'low' },
  );
  return state;
}

export interface PutRecordsCall {
  readonly records: number;
  /** Partition keys (UTF-8) and data, as Kinesis counts a request. */
  readonly bytes: number;
}

/** Records every PutRecords call the client is asked to make (before any injected failure), in order. */
export function recordPutRecordsCalls(client: KinesisClient): PutRecordsCall[] {
  const calls: PutRecordsCall[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === PUT_RECORDS) {
        const records = (args.input as PutRecordsCommandInput).Records ?? [];
        calls.push({
          records: records.length,
          bytes: records.reduce((sum, record) => sum + Buffer.byteLength(record.PartitionKey ?? '', 'utf8') + (record.Data?.byteLength ?? 0), 0),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordPutRecordsCalls', priority: 'high' },
  );
  return calls;
}

export interface Gate {
  /** PutRecords calls held at the gate now. */
  readonly waiting: number;
  open(): void;
}

/** Holds every PutRecords call until `open()`: a stream that does not answer. */
export function gatePutRecords(client: KinesisClient): Gate {
  let release: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  const state = {
    waiting: 0,
    open: () => release(),
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === PUT_RECORDS) {
        state.waiting += 1;
        await opened;
        state.waiting -= 1;
      }
      return next(args);
    },
    { step: 'initialize', name: 'gatePutRecords', priority: 'high' },
  );
  return state;
}
