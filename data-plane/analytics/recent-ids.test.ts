import { describe, expect, it } from 'vitest';
import { canonicalTimeMs } from './read-record.js';
import { RecentIds } from './recent-ids.js';

/** A deterministic id: a lower-case UUID most of the time, an upper-case one or a free-form string otherwise. */
function idOf(index: number): string {
  const hex = (index * 2_654_435_761 >>> 0).toString(16).padStart(8, '0');
  const uuid = `${hex}-${hex.slice(0, 4)}-4${hex.slice(1, 4)}-8${hex.slice(5, 8)}-${hex}${(index % 65_536).toString(16).padStart(4, '0')}`;
  if (index % 5 === 0) return `event-${index}`;
  return index % 7 === 0 ? uuid.toUpperCase() : uuid;
}

describe('RecentIds', () => {
  it('answers as a Map of the last `capacity` ids would, through evictions, and lists them oldest first', () => {
    for (const capacity of [1, 3, 64]) {
      const recent = new RecentIds(capacity);
      const ring: string[] = [];
      const reference = new Map<string, string>();
      let pick = 1;
      for (let step = 0; step < 20_000; step += 1) {
        pick = (pick * 48_271) % 2_147_483_647;
        const id = idOf(pick % (capacity * 3));
        const sequence = String(step);
        expect(recent.seenOrRemember(id, sequence)).toBe(reference.get(id));
        if (!reference.has(id)) {
          if (ring.length === capacity) reference.delete(ring.shift() ?? '');
          ring.push(id);
          reference.set(id, sequence);
        }
      }
      expect(recent.entries()).toEqual(ring.map((id) => [id, reference.get(id)]));
    }
  });

  it('tells ids apart that differ in one digit, and takes a UUID in another case as another id', () => {
    const recent = new RecentIds(10);
    const id = '0123abcd-4567-489a-8bcd-ef0123456789';
    expect(recent.seenOrRemember(id, '1')).toBeUndefined();
    expect(recent.seenOrRemember('0123abcd-4567-489a-8bcd-ef0123456788', '2')).toBeUndefined();
    expect(recent.seenOrRemember(id.toUpperCase(), '3')).toBeUndefined();
    expect(recent.seenOrRemember(id, '4')).toBe('1');
    const restored = new RecentIds(10);
    for (const [remembered, sequence] of recent.entries()) restored.remember(remembered, sequence);
    expect(restored.entries()).toEqual(recent.entries());
    expect(restored.seenOrRemember(id.toUpperCase(), '5')).toBe('3');
  });
});

describe('canonicalTimeMs', () => {
  it('equals Date.parse on toISOString forms across days and months, and refuses what is not one', () => {
    for (let time = Date.parse('2023-12-30T22:00:00.000Z'); time < Date.parse('2024-03-02T00:00:00.000Z'); time += 3_599_937) {
      expect(canonicalTimeMs(new Date(time).toISOString())).toBe(time);
    }
    // Read right after a valid time of the same day, so the day's cached start is in play.
    for (const text of ['2024-02-30T00:00:00.000Z', '2024-03-01T24:00:00.000Z', '2024-03-01T12:60:00.000Z', '2024-03-01T12:00:00.00xZ', '2024-03-01T12:00:00.000z', '2024-03-01 12:00:00.000Z']) {
      expect(canonicalTimeMs('2024-03-01T11:00:00.000Z')).toBe(Date.parse('2024-03-01T11:00:00.000Z'));
      expect(canonicalTimeMs(text)).toBeNaN();
    }
  });
});
