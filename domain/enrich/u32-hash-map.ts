/**
 * An open-addressing hash map from unsigned 32-bit keys to non-negative int32 values, in two typed
 * arrays. Loading ASN data asks it ~500,000 times; it is several times faster than a Map there.
 */
export class U32HashMap {
  private keys: Uint32Array;
  private values: Int32Array;
  private mask: number;
  private shift: number;
  size = 0;

  constructor(capacityPow2 = 16) {
    this.keys = new Uint32Array(1 << capacityPow2);
    this.values = new Int32Array(1 << capacityPow2).fill(-1);
    this.mask = (1 << capacityPow2) - 1;
    this.shift = 32 - capacityPow2;
  }

  /** The value of key, or -1. */
  get(key: number): number {
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const v = this.values[h] ?? -1;
      if (v < 0) return -1;
      if (this.keys[h] === key) return v;
      h = (h + 1) & this.mask;
    }
  }

  /** Sets key → value unless key is present; true if it was inserted. */
  insert(key: number, value: number): boolean {
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const v = this.values[h] ?? -1;
      if (v < 0) break;
      if (this.keys[h] === key) return false;
      h = (h + 1) & this.mask;
    }
    this.keys[h] = key;
    this.values[h] = value;
    this.size++;
    if (this.size * 2 > this.mask) this.grow();
    return true;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const bits = 33 - this.shift;
    this.keys = new Uint32Array(1 << bits);
    this.values = new Int32Array(1 << bits).fill(-1);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.size = 0;
    for (let i = 0; i < oldValues.length; i++) {
      const v = oldValues[i] ?? -1;
      if (v >= 0) this.insert(oldKeys[i] ?? 0, v);
    }
  }
}
