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

/** The value of the 4 hex digits of `text` from `start` (0 to 65535), or -1 when one is not a lower-case hex digit. */
function hex4(text: string, start: number): number {
  const a = nibble(text.charCodeAt(start));
  const b = nibble(text.charCodeAt(start + 1));
  const c = nibble(text.charCodeAt(start + 2));
  const d = nibble(text.charCodeAt(start + 3));
  return (a | b | c | d) < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

function nibble(code: number): number {
  return code < 128 ? HEX_VALUE[code] : -1;
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
  /**
   * Open addressing, linear probing; two numbers per cell: slot + 1 (0 for a free cell) and the id's hash,
   * so that a probe compares hashes in the cell it reads instead of reaching into `words` and `hashes`.
   */
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
    // At most two thirds full: a probe reads cells a cache line (8 cells) at a time, so a denser table that stays in cache beats a sparser one.
    let size = 16;
    while (size < capacity * 1.5) size *= 2;
    this.index = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  /** Reads a canonical lower-case UUID into `scratch`; false for any other string. */
  private pack(id: string): boolean {
    if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
    // Groups of 8, 4-4, 4-4 and 12 digits, read 4 at a time into four 32-bit words.
    const a = hex4(id, 0);
    const b = hex4(id, 4);
    const c = hex4(id, 9);
    const d = hex4(id, 14);
    const e = hex4(id, 19);
    const f = hex4(id, 24);
    const g = hex4(id, 28);
    const h = hex4(id, 32);
    if ((a | b | c | d | e | f | g | h) < 0) return false;
    const scratch = this.scratch;
    scratch[0] = (a << 16) | b;
    scratch[1] = (c << 16) | d;
    scratch[2] = (e << 16) | f;
    scratch[3] = (g << 16) | h;
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
      const entry = index[cell * 2];
      if (entry === 0) return -1;
      if (index[cell * 2 + 1] !== hash) continue;
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
      this.insert(id, false, sequenceNumber, 0);
      return undefined;
    }
    const hash = RecentIds.hash(this.scratch, 0);
    const cell = this.find(hash);
    if (cell >= 0) return this.sequences[this.index[cell * 2] - 1];
    this.insert(id, true, sequenceNumber, hash);
    return undefined;
  }

  /** Remembers an id not among the remembered ones, forgetting the oldest when full. */
  public remember(id: string, sequenceNumber: string): void {
    const packed = this.pack(id);
    this.insert(id, packed, sequenceNumber, packed ? RecentIds.hash(this.scratch, 0) : 0);
  }

  /** Stores `id` (packed in `scratch`, with its hash, when `packed`) in the next slot. */
  private insert(id: string, packed: boolean, sequenceNumber: string, hash: number): void {
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
    const { words, scratch } = this;
    const at = slot * 4;
    words[at] = scratch[0];
    words[at + 1] = scratch[1];
    words[at + 2] = scratch[2];
    words[at + 3] = scratch[3];
    this.hashes[slot] = hash;
    let cell = hash & this.mask;
    while (this.index[cell * 2] !== 0) cell = (cell + 1) & this.mask;
    this.index[cell * 2] = slot + 1;
    this.index[cell * 2 + 1] = hash;
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
    const { index, mask } = this;
    let hole = this.hashes[slot] & mask;
    while (index[hole * 2] !== slot + 1) hole = (hole + 1) & mask;
    // Backward-shift deletion: move up the entries whose probe ran through the hole, so lookups need no tombstones.
    index[hole * 2] = 0;
    for (let cell = (hole + 1) & mask; index[cell * 2] !== 0; cell = (cell + 1) & mask) {
      const home = index[cell * 2 + 1] & mask;
      // The entry may move to the hole when its home is not cyclically within (hole, cell].
      const between = hole <= cell ? home > hole && home <= cell : home > hole || home <= cell;
      if (!between) {
        index[hole * 2] = index[cell * 2];
        index[hole * 2 + 1] = index[cell * 2 + 1];
        index[cell * 2] = 0;
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
