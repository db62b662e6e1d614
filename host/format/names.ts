// The interned names of one device session (FORMAT.md section 2.2). NAMES records arrive in id
// order; a record may repeat ids already known (a host that re-reads after a reconnect), which
// is fine only if it says the same thing.

import { DecodeError } from "./errors.js";
import { NAME_KINDS, codeName, type NameKindName } from "./spec.js";
import type { NameEntry, NamesRecord } from "./records.js";

export class NameTable {
  // Index = id; index 0 is the reserved "no name".
  private readonly texts: string[] = [""];
  private readonly kinds: number[] = [0];

  /** Number of names known (ids 1..size). */
  get size(): number {
    return this.texts.length - 1;
  }

  /** The id the next new entry must have. */
  get nextId(): number {
    return this.texts.length;
  }

  /** Adds a decoded NAMES record. */
  addRecord(record: NamesRecord): void {
    this.addEntries(record.entries, record.offset);
  }

  /**
   * Adds entries with consecutive ids. Ids already known must carry the same kind and text;
   * an id past `nextId` (a gap) is a DecodeError at `offset`.
   */
  addEntries(entries: readonly NameEntry[], offset = 0): void {
    let expected = entries.length > 0 ? entries[0]!.id : this.nextId;
    for (const entry of entries) {
      if (entry.id !== expected) {
        throw new DecodeError(offset, `name ids not consecutive: ${entry.id} after ${expected - 1}`);
      }
      expected++;
      if (entry.id === 0) throw new DecodeError(offset, "name id 0 is reserved");
      if (codeName(NAME_KINDS, entry.kind) === undefined) {
        throw new DecodeError(offset, `unknown name kind ${entry.kind} for id ${entry.id}`);
      }
      if (entry.id < this.texts.length) {
        if (this.texts[entry.id] !== entry.text || this.kinds[entry.id] !== entry.kind) {
          throw new DecodeError(offset, `name id ${entry.id} redefined`);
        }
      } else if (entry.id === this.texts.length) {
        this.texts.push(entry.text);
        this.kinds.push(entry.kind);
      } else {
        throw new DecodeError(offset, `gap in name ids: ${entry.id} arrived, ${this.nextId} expected`);
      }
    }
  }

  /** Text of a name id; undefined for 0 and unknown ids. */
  get(id: number): string | undefined {
    return id > 0 ? this.texts[id] : undefined;
  }

  /** Kind code of a name id; undefined for 0 and unknown ids. */
  kindOf(id: number): number | undefined {
    return id > 0 ? this.kinds[id] : undefined;
  }

  /** Kind name of a name id ("task", "site", ...). */
  kindNameOf(id: number): NameKindName | undefined {
    const kind = this.kindOf(id);
    return kind === undefined ? undefined : codeName(NAME_KINDS, kind);
  }

  /** All entries, in id order. */
  entries(): NameEntry[] {
    const out: NameEntry[] = [];
    for (let id = 1; id < this.texts.length; id++) out.push({ id, kind: this.kinds[id]!, text: this.texts[id]! });
    return out;
  }
}
