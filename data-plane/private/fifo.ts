/** A first-in, first-out queue with O(1) push and shift (an array and a moving head, compacted as it drains). */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  public get length(): number {
    return this.items.length - this.head;
  }

  public push(item: T): void {
    this.items.push(item);
  }

  public pushAll(items: readonly T[]): void {
    for (const item of items) {
      this.items.push(item);
    }
  }

  public peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  public shift(): T | undefined {
    if (this.head >= this.items.length) {
      return undefined;
    }
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
