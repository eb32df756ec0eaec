// An async-iterable queue of events: the session pushes server messages as they arrive and a
// `for await` loop takes them in order.  Events are buffered until read, so nothing that arrives
// before the loop starts (session.created, early acks) is lost.

export class EventQueue {
  /** @type {any[]} */ #items = [];
  /** @type {((r: IteratorResult<any>) => void)[]} */ #waiting = [];
  /** @type {((e: unknown) => void)[]} */ #rejecters = [];
  #done = false;
  /** @type {unknown} */ #error = null;

  /** @param {any} item */
  push(item) {
    if (this.#done) return;
    const resolve = this.#waiting.shift();
    this.#rejecters.shift();
    if (resolve) resolve({ value: item, done: false });
    else this.#items.push(item);
  }

  /** No more events: readers finish once the buffer is empty; `error` makes them throw it. */
  close(error = null) {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    const waiting = this.#waiting.splice(0);
    const rejecters = this.#rejecters.splice(0);
    waiting.forEach((resolve, i) => (error ? rejecters[i](error) : resolve({ value: undefined, done: true })));
  }

  get closed() { return this.#done; }

  /** @returns {Promise<IteratorResult<any>>} */
  next() {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift(), done: false });
    if (this.#done) return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.#waiting.push(resolve); this.#rejecters.push(reject); });
  }

  [Symbol.asyncIterator]() {
    return { next: () => this.next(), return: async () => ({ value: undefined, done: true }) };
  }
}
