/**
 * Turns a producer that pushes into an awaited sink (the ZIP writer) into an async iterable that
 * a consumer pulls (an adapter's writeFile), with backpressure: the producer waits while
 * HIGH_WATER chunks are queued, and an error on either side reaches the other.
 */
const HIGH_WATER = 16;
export function pushToPull(run) {
    return {
        [Symbol.asyncIterator]() {
            const queue = [];
            let done = false;
            let failure;
            let consumerGone = false;
            let wakeConsumer;
            let wakeProducer;
            const wake = (w) => w?.();
            const sink = async (chunk) => {
                if (consumerGone)
                    throw new Error("the consumer stopped reading");
                // The producer may reuse its buffer once this resolves, and the consumer may not have read it yet.
                queue.push(chunk.slice());
                const w = wakeConsumer;
                wakeConsumer = undefined;
                wake(w);
                while (queue.length >= HIGH_WATER && !consumerGone)
                    await new Promise((r) => (wakeProducer = r));
            };
            run(sink).then(() => {
                done = true;
                wake(wakeConsumer);
            }, (error) => {
                failure = { error };
                done = true;
                wake(wakeConsumer);
            });
            return {
                async next() {
                    for (;;) {
                        if (failure)
                            throw failure.error;
                        const chunk = queue.shift();
                        if (chunk) {
                            const w = wakeProducer;
                            wakeProducer = undefined;
                            wake(w);
                            return { value: chunk, done: false };
                        }
                        if (done)
                            return { value: undefined, done: true };
                        await new Promise((r) => (wakeConsumer = r));
                    }
                },
                async return() {
                    consumerGone = true;
                    wake(wakeProducer);
                    return { value: undefined, done: true };
                },
            };
        },
    };
}
//# sourceMappingURL=pipe.js.map