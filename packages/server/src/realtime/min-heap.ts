/**
 * A binary min-heap of values by a numeric key: what comes due first (the
 * next waiting position to have its turn, the next pass to run out) in
 * O(log n) per push and pop, so a tick looks only at what is due, not at
 * every subscriber. Values may be pushed again with a new key; the caller
 * checks what it pops against its own state (stale keys are skipped there).
 */
export class MinHeap<T> {
  private keys: number[] = [];
  private values: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, value: T): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.move(parent, i);
      i = parent;
    }
    this.keys[i] = key;
    this.values[i] = value;
  }

  /** Pops every value whose key is at most `bound`, smallest first. */
  popUpTo(bound: number): T[] {
    const due: T[] = [];
    while (this.keys.length > 0 && this.keys[0]! <= bound) due.push(this.pop());
    return due;
  }

  clear(): void {
    this.keys = [];
    this.values = [];
  }

  private pop(): T {
    const top = this.values[0]!;
    const key = this.keys.pop()!;
    const value = this.values.pop()!;
    const n = this.keys.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const child = left + 1 < n && this.keys[left + 1]! < this.keys[left]! ? left + 1 : left;
      if (this.keys[child]! >= key) break;
      this.move(child, i);
      i = child;
    }
    this.keys[i] = key;
    this.values[i] = value;
    return top;
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from]!;
    this.values[to] = this.values[from]!;
  }
}
