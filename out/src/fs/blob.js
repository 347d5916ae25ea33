export async function* blobChunks(blob, onError) {
    const reader = blob.stream().getReader();
    let done = false;
    try {
        for (;;) {
            let next;
            try {
                next = await reader.read();
            }
            catch (e) {
                done = true; // an errored stream needs no cancel
                throw onError(e);
            }
            if (next.done) {
                done = true;
                return;
            }
            yield next.value; // a Blob stream hands out a fresh array per chunk
        }
    }
    finally {
        if (!done)
            await reader.cancel().catch(() => undefined);
        reader.releaseLock();
    }
}
//# sourceMappingURL=blob.js.map