/**
 * Job durations as DDSketches (relative accuracy 1%): a quantile read from a sketch is within 1% of the
 * true value at that rank, and sketches merge exactly (the day is the merge of its hours). Stored in the
 * tenant-day files as their non-empty bins, because the library's protobuf form needs an optional
 * dependency (protobufjs) that the kit does not install.
 */
import { DDSketch } from '@datadog/sketches-js';
import { AnalyticsStateError } from './errors.js';

/** Relative accuracy of the duration percentiles. */
export const DURATION_RELATIVE_ACCURACY = 0.01;

/** A sketch as stored: zero count and `[key, count]` of each non-empty bin. */
export interface StoredSketch {
  readonly zero: number;
  readonly bins: readonly (readonly [number, number])[];
}

export function newSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: DURATION_RELATIVE_ACCURACY });
}

export function storeSketch(sketch: DDSketch): StoredSketch {
  const bins: [number, number][] = [];
  const { store } = sketch;
  for (let index = 0; index < store.bins.length; index += 1) {
    const count = store.bins[index] ?? 0;
    if (count > 0) bins.push([index + store.offset, count]);
  }
  return { zero: sketch.zeroCount, bins };
}

export function loadSketch(stored: StoredSketch, key: string): DDSketch {
  const sketch = newSketch();
  const bins: StoredSketch['bins'] = stored.bins;
  // Checked as unknown: the file is JSON from S3, and isArray would narrow `bins` to any[].
  const raw: unknown = stored.bins;
  if (!Number.isInteger(stored.zero) || stored.zero < 0 || !Array.isArray(raw)) {
    throw new AnalyticsStateError(key, `a duration sketch is not of the stored form { zero, bins: [[key, count]] }: ${JSON.stringify(stored).slice(0, 80)}`);
  }
  let count = stored.zero;
  for (const [bin, weight] of bins) {
    sketch.store.add(bin, weight);
    count += weight;
  }
  sketch.zeroCount = stored.zero;
  sketch.count = count;
  return sketch;
}

/** The value at a quantile (0 to 1), or null for an empty sketch. */
export function quantileOf(sketch: DDSketch | undefined, quantile: number): number | null {
  if (sketch === undefined || sketch.count === 0) return null;
  return sketch.getValueAtQuantile(quantile);
}
