// Reads the station's binary log and prints daily means.
import { readFileSync } from "node:fs";
import { mean } from "./util/stats.js";

const log = readFileSync(new URL("../data/measurements.bin", import.meta.url));
const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
const records = (log.byteLength - 16) / 16;
const byDay = new Map();
for (let i = 0; i < records; i++) {
  const at = 16 + i * 16;
  const day = Math.floor(view.getUint32(at, true) / 86400);
  const value = view.getFloat32(at + 8, true);
  if (!byDay.has(day)) byDay.set(day, []);
  byDay.get(day).push(value);
}
for (const [day, values] of byDay) console.log(new Date(day * 864e5).toISOString().slice(0, 10), mean(values).toFixed(2));
