import type { z } from 'zod';

/** One version of a type's data, with what it takes to read it as the latest version. */
export interface DataVersion {
  /** 1, 2, ...: the `v<N>` of the `dataschema` URN. */
  readonly version: number;
  readonly schema: z.ZodType;
  /** A valid `data` of this version; documents it and feeds the tests. */
  readonly example: unknown;
  /** What changed from the previous version and how older events are upcast (empty for v1). */
  readonly change: string;
  /** Turns parsed data of this version into the latest version's shape (the identity for the latest). */
  readonly toLatest: (data: unknown) => unknown;
}

/** What `DataVersions.add` needs for the next version. */
export interface NextVersion<Previous extends z.ZodType, Next extends z.ZodType> {
  readonly schema: Next;
  readonly example: z.input<Next>;
  /** Shown in docs/events: what changed and how older events are upcast. */
  readonly change: string;
  /** Turns data of the previous version into this one. Pure and total: it runs on every older event. */
  readonly upcast: (previous: z.output<Previous>) => z.output<Next>;
}

const identity = (data: unknown): unknown => data;

/**
 * Every version of one type's data, oldest first. Versions are only ever added: a stream (or an
 * outbox) still holds events of the old ones. Each added version brings an upcast from the one
 * before, so an event of any version reads as the latest: the chain is composed once, here.
 */
export class DataVersions<Latest extends z.ZodType = z.ZodType> {
  /** The first version of a type. */
  public static of<S extends z.ZodType>(schema: S, example: z.input<S>): DataVersions<S> {
    return new DataVersions([{ version: 1, schema, example, change: '', toLatest: identity }], schema);
  }

  private constructor(
    /** Oldest first; `all[i].version === i + 1`. */
    public readonly all: readonly DataVersion[],
    /** The schema producers write. */
    public readonly latest: Latest,
  ) {}

  public get latestVersion(): number {
    return this.all.length;
  }

  /** A new version: breaking changes (a field removed, renamed, retyped or made required) only go here. */
  public add<Next extends z.ZodType>(next: NextVersion<Latest, Next>): DataVersions<Next> {
    const upcast = next.upcast as (data: unknown) => unknown;
    const older = this.all.map((version) => {
      const toPrevious = version.toLatest;
      return { ...version, toLatest: (data: unknown): unknown => upcast(toPrevious(data)) };
    });
    const added: DataVersion = { version: this.all.length + 1, schema: next.schema, example: next.example, change: next.change, toLatest: identity };
    return new DataVersions([...older, added], next.schema);
  }
}
