/**
 * The event ids a shard read last, for its dedupe: a ring of `capacity` ids with the sequence number of
 * the record that carried each. Ids in the canonical UUID form (nearly all) are kept as 128 bits in
 * typed arrays with an open-addressing index: no string is held and no Map probed per record, which
 * costs as much as the rest of the aggregation. Any other id goes to a Map; both are exact.
 */

const EMPTY = 0;
const PACKED = 1;
const OTHER = 2;

/** Value of each lower-case hex digit by char code, else -1. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 16; digit += 1) HEX_VALUE['0123456789abcdef'.charCodeAt(digit)] = digit;

/** The value of `count` hex digits of `text` from `start`, or -1 when one is not a lower-case hex digit. */
function hexAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let at = start; at < start + count; at += 1) {
    const code = text.charCodeAt(at);
    const nibble = code < 128 ? HEX_VALUE[code] : -1;
    if (nibble < 0) return -1;
    value = value * 16 + nibble;
  }
  return value;
}

export class RecentIds {
  public readonly capacity: number;
  /** What each ring slot holds: EMPTY, PACKED (in `words`) or OTHER (in `others`). */
  private readonly form: Uint8Array;
  /** Four 32-bit words per slot: the UUID's 128 bits. */
  private readonly words: Int32Array;
  private readonly hashes: Int32Array;
  private readonly sequences: (string | undefined)[];
  private readonly otherIds: (string | undefined)[];
  /** Open addressing, linear probing: slot + 1, or 0 for a free cell. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly others = new Map<string, number>();
  /** The slot to fill next: the oldest once the ring is full. */
  private next = 0;
  /** Words of the id being looked up. */
  private readonly scratch = new Int32Array(4);

  public constructor(capacity: number) {
    this.capacity = capacity;
    this.form = new Uint8Array(capacity);
    this.words = new Int32Array(capacity * 4);
    this.hashes = new Int32Array(capacity);
    this.sequences = new Array<string | undefined>(capacity);
    this.otherIds = new Array<string | undefined>(capacity);
    // At most half full, so probes stay short.
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Reads a canonical lower-case UUID into `scratch`; false for any other string. */
  private pack(id: string): boolean {
    if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
    // Groups of 8, 4-4, 4-4 and 12 digits; each value < 2^32, stored as int32 bits.
    const first = hexAt(id, 0, 8);
    const b = hexAt(id, 9, 4);
    const c = hexAt(id, 14, 4);
    const d = hexAt(id, 19, 4);
    const e = hexAt(id, 24, 4);
    const f = hexAt(id, 28, 8);
    if (first < 0 || b < 0 || c < 0 || d < 0 || e < 0 || f < 0) return false;
    const scratch = this.scratch;
    scratch[0] = first;
    scratch[1] = b * 65_536 + c;
    scratch[2] = d * 65_536 + e;
    scratch[3] = f;
    return true;
  }

  private static hash(words: Int32Array, at: number): number {
    let hash = Math.imul(words[at] ^ 0x9e3779b9, 0x85ebca6b);
    hash = Math.imul(hash ^ words[at + 1] ^ (hash >>> 15), 0xc2b2ae35);
    hash = Math.imul(hash ^ words[at + 2] ^ (hash >>> 13), 0x85ebca6b);
    hash = Math.imul(hash ^ words[at + 3] ^ (hash >>> 16), 0xc2b2ae35);
    return hash ^ (hash >>> 16);
  }

  /** The cell of `index` that holds the packed id in `scratch`, or -1. */
  private find(hash: number): number {
    const { index, words, scratch, mask } = this;
    for (let cell = hash & mask; ; cell = (cell + 1) & mask) {
      const entry = index[cell];
      if (entry === 0) return -1;
      const at = (entry - 1) * 4;
      if (words[at] === scratch[0] && words[at + 1] === scratch[1] && words[at + 2] === scratch[2] && words[at + 3] === scratch[3]) return cell;
    }
  }

  /**
   * The sequence number of the record that carried `id` when it is remembered; else remembers it with
   * `sequenceNumber` (forgetting the oldest when full) and returns undefined. One read of the id for both.
   */
  public seenOrRemember(id: string, sequenceNumber: string): string | undefined {
    if (!this.pack(id)) {
      const slot = this.others.get(id);
      if (slot !== undefined) return this.sequences[slot];
      this.insert(id, false, sequenceNumber);
      return undefined;
    }
    const cell = this.find(RecentIds.hash(this.scratch, 0));
    if (cell >= 0) return this.sequences[this.index[cell] - 1];
    this.insert(id, true, sequenceNumber);
    return undefined;
  }

  /** Remembers an id not among the remembered ones, forgetting the oldest when full. */
  public remember(id: string, sequenceNumber: string): void {
    this.insert(id, this.pack(id), sequenceNumber);
  }

  /** Stores `id` (packed in `scratch` when `packed`) in the next slot. */
  private insert(id: string, packed: boolean, sequenceNumber: string): void {
    const slot = this.next;
    this.forget(slot);
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    this.sequences[slot] = sequenceNumber;
    if (!packed) {
      this.form[slot] = OTHER;
      this.otherIds[slot] = id;
      this.others.set(id, slot);
      return;
    }
    this.form[slot] = PACKED;
    this.words.set(this.scratch, slot * 4);
    const hash = RecentIds.hash(this.words, slot * 4);
    this.hashes[slot] = hash;
    let cell = hash & this.mask;
    while (this.index[cell] !== 0) cell = (cell + 1) & this.mask;
    this.index[cell] = slot + 1;
  }

  private forget(slot: number): void {
    const form = this.form[slot];
    if (form === EMPTY) return;
    this.form[slot] = EMPTY;
    this.sequences[slot] = undefined;
    if (form === OTHER) {
      this.others.delete(this.otherIds[slot] ?? '');
      this.otherIds[slot] = undefined;
      return;
    }
    const { index, hashes, mask } = this;
    let hole = hashes[slot] & mask;
    while (index[hole] !== slot + 1) hole = (hole + 1) & mask;
    // Backward-shift deletion: move up the entries whose probe ran through the hole, so lookups need no tombstones.
    index[hole] = 0;
    for (let cell = (hole + 1) & mask; index[cell] !== 0; cell = (cell + 1) & mask) {
      const home = hashes[index[cell] - 1] & mask;
      // The entry may move to the hole when its home is not cyclically within (hole, cell].
      const between = hole <= cell ? home > hole && home <= cell : home > hole || home <= cell;
      if (!between) {
        index[hole] = index[cell];
        index[cell] = 0;
        hole = cell;
      }
    }
  }

  /** `[id, sequenceNumber]` of the remembered ids, oldest first. */
  public entries(): [string, string][] {
    const entries: [string, string][] = [];
    for (let offset = 0; offset < this.capacity; offset += 1) {
      const slot = (this.next + offset) % this.capacity;
      const form = this.form[slot];
      if (form === EMPTY) continue;
      entries.push([form === OTHER ? (this.otherIds[slot] ?? '') : this.unpack(slot), this.sequences[slot] ?? '']);
    }
    return entries;
  }

  private unpack(slot: number): string {
    let hex = '';
    for (let word = 0; word < 4; word += 1) hex += (this.words[slot * 4 + word] >>> 0).toString(16).padStart(8, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
