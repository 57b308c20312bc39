/**
 * Job durations of one window. Most tenant-hours end a handful of jobs, so a window keeps its durations
 * exactly until it has more than `EXACT_LIMIT`, and only then turns them into a DDSketch (relative
 * accuracy 1%), which from there on takes every duration in constant memory. Both answer a quantile q
 * at the same rank, floor(q x (n - 1)): exactly while exact, within 1% from the sketch. The library's
 * dense store costs about a microsecond and a kilobyte per new sketch, which per tenant-hour was a
 * third of the aggregator's time; a short array costs neither.
 *
 * Stored in the tenant-day files as the exact values, or as the sketch's non-empty bins (the library's
 * protobuf form needs an optional dependency, protobufjs, that the kit does not install).
 */
import { DDSketch } from '@datadog/sketches-js';
import { AnalyticsStateError } from './errors.js';

/** Relative accuracy of the duration percentiles once a window has more than `EXACT_LIMIT` durations. */
export const DURATION_RELATIVE_ACCURACY = 0.01;

/** Durations a window keeps exactly before it turns them into a sketch. */
export const EXACT_LIMIT = 32;

/** Durations as stored: the exact values, or the sketch's zero count and `[key, count]` of each non-empty bin. */
export type StoredDurations = { readonly values: readonly number[] } | StoredSketch;

export interface StoredSketch {
  readonly zero: number;
  readonly bins: readonly (readonly [number, number])[];
}

export class Durations {
  /** The durations while there are at most `EXACT_LIMIT`; undefined once `sketch` holds them. */
  private values: number[] | undefined = [];
  private sketch: DDSketch | undefined;

  public add(duration: number): void {
    if (this.values === undefined) {
      this.sketch!.accept(duration);
      return;
    }
    this.values.push(duration);
    if (this.values.length > EXACT_LIMIT) this.toSketch();
  }

  /** Adds every duration of `other` (the day is the merge of its hours; sketches merge exactly). */
  public merge(other: Durations): void {
    if (other.values !== undefined) {
      for (const duration of other.values) this.add(duration);
      return;
    }
    if (this.values !== undefined) this.toSketch();
    this.sketch!.merge(other.sketch!);
  }

  public get count(): number {
    return this.values?.length ?? this.sketch!.count;
  }

  /** The duration at quantile q (0 to 1), or null when there is none. */
  public quantile(quantile: number): number | null {
    if (this.count === 0) return null;
    if (this.values === undefined) return this.sketch!.getValueAtQuantile(quantile);
    const sorted = Float64Array.from(this.values).sort();
    return sorted[Math.floor(quantile * (sorted.length - 1))];
  }

  public store(): StoredDurations {
    // Sorted: the file must not depend on the order the events came in.
    if (this.values !== undefined) return { values: Array.from(Float64Array.from(this.values).sort()) };
    const sketch = this.sketch!;
    const bins: [number, number][] = [];
    const { store } = sketch;
    for (let index = 0; index < store.bins.length; index += 1) {
      const count = store.bins[index] ?? 0;
      if (count > 0) bins.push([index + store.offset, count]);
    }
    return { zero: sketch.zeroCount, bins };
  }

  public static load(stored: StoredDurations, key: string): Durations {
    const durations = new Durations();
    const raw: unknown = stored;
    if (typeof raw === 'object' && raw !== null && 'values' in raw) {
      const { values } = raw;
      if (!Array.isArray(values) || values.length > EXACT_LIMIT || !values.every((value) => typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
        throw new AnalyticsStateError(key, `stored durations are not { values: [up to ${EXACT_LIMIT} durations >= 0] }: ${JSON.stringify(raw).slice(0, 80)}`);
      }
      durations.values = [...(values as number[])];
      return durations;
    }
    const { zero, bins } = (raw ?? {}) as { zero?: unknown; bins?: unknown };
    if (!Number.isInteger(zero) || (zero as number) < 0 || !Array.isArray(bins)) {
      throw new AnalyticsStateError(key, `stored durations are neither { values } nor a sketch { zero, bins: [[key, count]] }: ${JSON.stringify(raw).slice(0, 80)}`);
    }
    const sketch = newSketch();
    let count = zero as number;
    for (const [bin, weight] of bins as [number, number][]) {
      sketch.store.add(bin, weight);
      count += weight;
    }
    sketch.zeroCount = zero as number;
    sketch.count = count;
    durations.values = undefined;
    durations.sketch = sketch;
    return durations;
  }

  private toSketch(): void {
    const sketch = newSketch();
    for (const duration of this.values ?? []) sketch.accept(duration);
    this.sketch = sketch;
    this.values = undefined;
  }
}

function newSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: DURATION_RELATIVE_ACCURACY });
}
