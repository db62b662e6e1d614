// A map from whole-number ids (task ids, flow ids, task indices) to records, for the tables the
// model adds to and deletes from once per task or request. A JS Map or Set with that churn
// rehashes every few thousand operations, and V8 links each outgrown table to its successor:
// once one is promoted to the old generation it keeps every later table, and every record they
// held, alive through the young-generation collections until the next full one. On a trace that
// spawns a task per request that kept half of all the model allocates alive for a while (most of
// the GC time). This table probes linearly in typed arrays, deletes by shifting entries back (no
// tombstones, so churn never rehashes) and only grows with the number held at once.
//
// Iteration is in order of insertion (as a Map's), which callers rely on for stable output; it
// sorts, so it is for the end of a session and the lints, not for every event.

const EMPTY = -1;

export class IdTable<V> implements Iterable<V> {
  private keys: Float64Array;
  private vals: (V | undefined)[];
  /** Order of insertion of each slot's entry (for iteration). */
  private seqs: Float64Array;
  private mask: number;
  private count = 0;
  private nextSeq = 0;

  constructor(capacity = 16) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.keys = new Float64Array(size).fill(EMPTY);
    this.vals = new Array<V | undefined>(size).fill(undefined);
    this.seqs = new Float64Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    const keys = this.keys;
    for (let i = slotOf(id, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === id) return this.vals[i];
      if (k === EMPTY) return undefined;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Sets the value of `id` (a value replaced keeps its place in the order, as in a Map). */
  set(id: number, value: V): void {
    const keys = this.keys;
    let i = slotOf(id, this.mask);
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === id) {
        this.vals[i] = value;
        return;
      }
      if (k === EMPTY) break;
    }
    keys[i] = id;
    this.vals[i] = value;
    this.seqs[i] = this.nextSeq++;
    if (++this.count * 2 > this.mask + 1) this.grow();
  }

  delete(id: number): boolean {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = slotOf(id, mask);
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) break;
      if (k === EMPTY) return false;
    }
    // Backward-shift deletion: move later entries of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j]! !== EMPTY; j = (j + 1) & mask) {
      const home = slotOf(keys[j]!, mask);
      // Entry j may move to the hole unless its home lies cyclically in (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        keys[hole] = keys[j]!;
        vals[hole] = vals[j];
        this.seqs[hole] = this.seqs[j]!;
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    vals[hole] = undefined;
    this.count--;
    return true;
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.vals.fill(undefined);
    this.count = 0;
    this.nextSeq = 0;
  }

  /** Deletes every entry whose value passes `drop` (in no particular order). */
  deleteWhere(drop: (value: V) => boolean): void {
    const gone: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] !== EMPTY && drop(this.vals[i]!)) gone.push(this.keys[i]!);
    for (const id of gone) this.delete(id);
  }

  /** The values in order of insertion. */
  values(): V[] {
    const at: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] !== EMPTY) at.push(i);
    at.sort((a, b) => this.seqs[a]! - this.seqs[b]!);
    return at.map((i) => this.vals[i]!);
  }

  [Symbol.iterator](): Iterator<V> {
    return this.values()[Symbol.iterator]();
  }

  private grow(): void {
    const { keys, vals, seqs } = this;
    const size = (this.mask + 1) * 2;
    this.keys = new Float64Array(size).fill(EMPTY);
    this.vals = new Array<V | undefined>(size).fill(undefined);
    this.seqs = new Float64Array(size);
    this.mask = size - 1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === EMPTY) continue;
      let j = slotOf(k, this.mask);
      while (this.keys[j] !== EMPTY) j = (j + 1) & this.mask;
      this.keys[j] = k;
      this.vals[j] = vals[i];
      this.seqs[j] = seqs[i]!;
    }
    vals.fill(undefined); // the old array may be in the old generation: let it hold nothing
  }
}

/** Home slot of an id (ids are whole numbers; those beyond 32 bits mix their high part in). */
function slotOf(id: number, mask: number): number {
  const lo = id >>> 0;
  const hi = id > 0xffffffff ? Math.floor(id / 0x1_0000_0000) : 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  return h & mask;
}

/** A set of records by a whole-number key of theirs (task records by index), in insertion order. */
export class RecordSet<T extends { index: number }> implements Iterable<T> {
  private readonly table = new IdTable<T>();

  get size(): number {
    return this.table.size;
  }

  has(rec: T): boolean {
    return this.table.get(rec.index) === rec;
  }

  add(rec: T): this {
    this.table.set(rec.index, rec);
    return this;
  }

  delete(rec: T): boolean {
    return this.table.get(rec.index) === rec && this.table.delete(rec.index);
  }

  clear(): void {
    this.table.clear();
  }

  /** Deletes every record that passes `drop`. */
  deleteWhere(drop: (rec: T) => boolean): void {
    this.table.deleteWhere(drop);
  }

  values(): T[] {
    return this.table.values();
  }

  [Symbol.iterator](): Iterator<T> {
    return this.table.values()[Symbol.iterator]();
  }
}

/** Ids below this are array slots in a SmallIdMap. */
const DENSE_LIMIT = 1 << 16;

/** A map from whole-number ids to values for ids that are mostly small (resource ids, task ids
 *  of a session): a lookup of a small id is an array index (a Map lookup per event was ~3 % of
 *  the analysis), larger ones go to an IdTable. Values are never undefined. `values()` walks
 *  them: small ids in order, then the others in order of insertion. */
export class SmallIdMap<V> {
  private dense: (V | undefined)[] = [];
  private readonly sparse = new IdTable<V>();
  private denseCount = 0;

  /** Entries held. */
  get size(): number {
    return this.denseCount + this.sparse.size;
  }

  get(id: number): V | undefined {
    return id < DENSE_LIMIT ? this.dense[id] : this.sparse.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: V): void {
    if (id >= DENSE_LIMIT) {
      this.sparse.set(id, value);
      return;
    }
    const dense = this.dense;
    // Grown slot by slot: an array written far past its end turns into a slow dictionary.
    while (dense.length <= id) dense.push(undefined);
    if (dense[id] === undefined) this.denseCount++;
    dense[id] = value;
  }

  delete(id: number): void {
    if (id < DENSE_LIMIT) {
      if (this.dense[id] === undefined) return;
      this.dense[id] = undefined;
      this.denseCount--;
    } else this.sparse.delete(id);
  }

  clear(): void {
    this.dense = [];
    this.denseCount = 0;
    this.sparse.clear();
  }

  /** The values: small ids' in id order, then the others' in order of insertion. */
  *values(): Generator<V> {
    for (const value of this.dense) if (value !== undefined) yield value;
    yield* this.sparse.values();
  }
}
