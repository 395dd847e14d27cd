/**
 * A set of strings in bounded memory: each kept as a 64-bit hash in typed arrays (16 bytes a string
 * at most, against about 200 for a path in a `Set`), for whole-table walks that must not visit a
 * file twice among a million. Two different strings are taken for one with a probability of about
 * n² / 2^65 (3·10^-8 for a million strings): for counting and skipping repeated checks, never for
 * deciding what is written.
 */

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A set of strings by their 64-bit hash (see the module comment for what that allows). */
export class HashedStringSet {
  #lo = new Uint32Array(1024);
  #hi = new Uint32Array(1024);
  #size = 0;

  /** Number of strings added. */
  get size(): number {
    return this.#size;
  }

  /** Adds `s`; false when it was there already. */
  add(s: string): boolean {
    return this.#find(s, true);
  }

  /** Whether `s` was added. */
  has(s: string): boolean {
    return !this.#find(s, false);
  }

  #find(s: string, insert: boolean): boolean {
    let a = 0x9747b28c ^ s.length;
    let b = 0x1b873593 ^ s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul((b << 5) | (b >>> 27), 0x5bd1e995) ^ c;
    }
    let lo = fmix(a);
    const hi = fmix(b ^ lo);
    if (lo === 0 && hi === 0) lo = 1; // (0, 0) marks an empty slot
    const mask = this.#lo.length - 1;
    for (let at = (lo ^ Math.imul(hi, 0x27d4eb2d)) & mask; ; at = (at + 1) & mask) {
      const l = this.#lo[at]!;
      const h = this.#hi[at]!;
      if (l === 0 && h === 0) {
        if (!insert) return true;
        this.#lo[at] = lo;
        this.#hi[at] = hi;
        if (++this.#size * 2 > this.#lo.length) this.#grow();
        return true;
      }
      if (l === lo && h === hi) return false;
    }
  }

  #grow(): void {
    const oldLo = this.#lo;
    const oldHi = this.#hi;
    this.#lo = new Uint32Array(oldLo.length * 2);
    this.#hi = new Uint32Array(oldLo.length * 2);
    const mask = this.#lo.length - 1;
    for (let i = 0; i < oldLo.length; i++) {
      const lo = oldLo[i]!;
      const hi = oldHi[i]!;
      if (lo === 0 && hi === 0) continue;
      let at = (lo ^ Math.imul(hi, 0x27d4eb2d)) & mask;
      while (this.#lo[at] !== 0 || this.#hi[at] !== 0) at = (at + 1) & mask;
      this.#lo[at] = lo;
      this.#hi[at] = hi;
    }
  }
}
