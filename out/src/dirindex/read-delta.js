/**
 * A file's delta against the previous index's signature at its path, made while the file is
 * read for its hash and new signature: the walk hands every chunk to this too, so an updated
 * file's archive member (diff-data.ts) needs neither the file's bytes kept in memory nor a
 * second read, and it is made from exactly the bytes the index hashed. Once the delta reaches
 * `limit` (at most the file's size, when the archive would store the file instead; less when
 * the cache has less room) it is abandoned and its engine given back.
 */
import { DeltaJob } from "../rsync/delta.js";
export class ReadDelta {
    job;
    limit;
    parts = [];
    size = 0;
    abandoned = false;
    constructor(job, limit) {
        this.job = job;
        this.limit = limit;
        // Output arrives inside push(): the job is only marked here, and released in finish/dispose.
        job.ondata = (d) => {
            this.size += d.length;
            if (this.abandoned)
                return;
            if (this.size >= this.limit) {
                this.abandoned = true;
                this.parts = [];
            }
            else
                this.parts.push(d);
        };
    }
    /** A delta against `basis`; undefined when the signature cannot be used (the archive then reports it). */
    static async start(basis, limit) {
        try {
            return new ReadDelta(await DeltaJob.create(basis), limit);
        }
        catch {
            return undefined;
        }
    }
    push(chunk) {
        if (this.abandoned)
            return;
        this.job?.push(chunk);
        if (this.abandoned)
            this.dispose();
    }
    /** The whole delta, or undefined if it was abandoned. */
    finish() {
        if (!this.abandoned)
            this.job?.push(new Uint8Array(0), true);
        const done = this.abandoned || !this.job ? undefined : this.parts;
        this.dispose();
        return done;
    }
    dispose() {
        this.job?.dispose();
        this.job = undefined;
    }
}
//# sourceMappingURL=read-delta.js.map