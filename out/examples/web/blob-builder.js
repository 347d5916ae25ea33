/**
 * Collects a stream of byte chunks into a Blob for download. Chunks are copied into a 1 MiB
 * buffer and each full buffer becomes one Blob part, so a producer may reuse its arrays as soon
 * as `push` returns (the ZipWriter sink contract), a ZIP's many small headers do not become
 * thousands of tiny Blobs, and finished parts can live outside the JS heap (Chromium moves large
 * blob data to disk) instead of in one ever-growing array.
 */
const PART = 1 << 20;
export class BlobBuilder {
    parts = [];
    buffer = new Uint8Array(PART);
    used = 0;
    size = 0;
    push(chunk) {
        this.size += chunk.length;
        let at = 0;
        while (at < chunk.length) {
            const n = Math.min(PART - this.used, chunk.length - at);
            this.buffer.set(chunk.subarray(at, at + n), this.used);
            this.used += n;
            at += n;
            if (this.used === PART)
                this.flush();
        }
    }
    finish(type) {
        this.flush();
        return new Blob(this.parts, { type });
    }
    flush() {
        if (this.used === 0)
            return;
        this.parts.push(new Blob([this.buffer.slice(0, this.used)]));
        this.used = 0;
    }
}
//# sourceMappingURL=blob-builder.js.map