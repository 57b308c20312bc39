/** A Kinesis handler used to prove the pipeline bundles a TypeScript entry with esbuild, offline. */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';

export function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  // Reports every record that is not JSON as a batch item failure, the contract the event source expects.
  const batchItemFailures = event.Records.filter((record) => {
    try {
      JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
      return false;
    } catch {
      return true;
    }
  }).map((record) => ({ itemIdentifier: record.kinesis.sequenceNumber }));
  return Promise.resolve({ batchItemFailures });
}
