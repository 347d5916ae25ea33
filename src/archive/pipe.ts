/**
 * Turns a producer that pushes into an awaited sink (the ZIP writer) into an async iterable that
 * a consumer pulls (an adapter's writeFile), with backpressure: the producer waits while
 * HIGH_WATER chunks are queued, and an error on either side reaches the other.
 */
const HIGH_WATER = 16;

export function pushToPull(run: (sink: (chunk: Uint8Array) => Promise<void>) => Promise<void>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const queue: Uint8Array[] = [];
      let done = false;
      let failure: { error: unknown } | undefined;
      let consumerGone = false;
      let wakeConsumer: (() => void) | undefined;
      let wakeProducer: (() => void) | undefined;
      const wake = (w: (() => void) | undefined) => w?.();

      const sink = async (chunk: Uint8Array) => {
        if (consumerGone) throw new Error("the consumer stopped reading");
        // The producer may reuse its buffer once this resolves, and the consumer may not have read it yet.
        queue.push(chunk.slice());
        const w = wakeConsumer;
        wakeConsumer = undefined;
        wake(w);
        while (queue.length >= HIGH_WATER && !consumerGone) await new Promise<void>((r) => (wakeProducer = r));
      };
      run(sink).then(
        () => {
          done = true;
          wake(wakeConsumer);
        },
        (error) => {
          failure = { error };
          done = true;
          wake(wakeConsumer);
        },
      );
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          for (;;) {
            if (failure) throw failure.error;
            const chunk = queue.shift();
            if (chunk) {
              const w = wakeProducer;
              wakeProducer = undefined;
              wake(w);
              return { value: chunk, done: false };
            }
            if (done) return { value: undefined, done: true };
            await new Promise<void>((r) => (wakeConsumer = r));
          }
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          consumerGone = true;
          wake(wakeProducer);
          return { value: undefined, done: true };
        },
      };
    },
  };
}
