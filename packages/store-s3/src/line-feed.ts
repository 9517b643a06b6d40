// The lines of one object as its body arrives: the body is read ahead in the background, up to
// `AHEAD` lines not yet taken (then the transfer waits, and TCP holds the rest back), and a reader
// takes lines before the last byte is in, so a large segment's transfer overlaps with verifying it
// instead of preceding it, and a segment fetched ahead costs a bounded buffer, not its whole body.

/** Lines read ahead of the reader, at most (about 1.6 MB of 400-byte records). */
const AHEAD = 4096;

/** Lines of an NDJSON body, in order, as they arrive; iterable once. */
export class LineFeed implements AsyncIterable<string> {
  #lines: (string | undefined)[] = [];
  #taken = 0;
  #roomFor: (() => void) | undefined;
  #done = false;
  #error: unknown;
  #failed = false;
  #wake: (() => void) | undefined;

  /** Starts reading `body` (chunks of UTF-8). A line cut short at the end is kept, for verification to report. */
  static of(body: () => Promise<AsyncIterable<Uint8Array>>): LineFeed {
    const feed = new LineFeed();
    void feed.#read(body);
    return feed;
  }

  async #read(body: () => Promise<AsyncIterable<Uint8Array>>): Promise<void> {
    try {
      const decoder = new TextDecoder("utf-8");
      let rest = "";
      let any = false;
      for await (const chunk of await body()) {
        const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = parts.pop() as string;
        if (parts.length > 0) {
          any = true;
          for (const part of parts) this.#lines.push(part);
          this.#signal();
          if (this.#lines.length - this.#taken >= AHEAD) {
            await new Promise<void>((resolve) => {
              this.#roomFor = resolve;
            });
          }
        }
      }
      rest += decoder.decode();
      // as `split` would: a body that does not end with a newline ends with its partial line
      if (rest !== "" || !any) this.#lines.push(rest);
      this.#done = true;
    } catch (error) {
      this.#error = error;
      this.#failed = true;
    }
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      while (this.#taken < this.#lines.length) {
        const line = this.#lines[this.#taken] as string;
        this.#lines[this.#taken++] = undefined; // taken: its memory goes with it
        if (this.#roomFor && this.#lines.length - this.#taken < AHEAD / 2) {
          const resume = this.#roomFor;
          this.#roomFor = undefined;
          resume();
        }
        yield line;
      }
      if (this.#failed) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
