// Runs s3rver in its own process for test/support/s3rver.ts: node started with
// --openssl-legacy-provider, because s3rver makes its ListObjectsV2 continuation tokens with DES,
// which current OpenSSL keeps only in its legacy provider. Arguments: folder, bucket. Prints
// {"port": N} once listening on 127.0.0.1, and stops when its standard input closes.
import { createRequire } from "node:module";

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const [directory, bucket] = process.argv.slice(2);
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + "\n");
process.stdin.resume();
process.stdin.on("end", () => {
  void server.close().then(() => process.exit(0));
});
