// Times co2.js's per-call API on request rows, for bench/requests_core.py.
//
//   node tools/co2js_oracle/per_call.mjs <dir where @tgwf/co2 is installed> <rows.json> [repeat]
//
// rows.json: {"bytes": [...], "client_intensity": [...], "server_intensity": [...]}, the
// grid intensities (gCO2e/kWh) the Piano grid gives each row: device and network from the
// client country, data centre from the server country. Each row is one SWD v4 perByteTrace
// call, as a per-request caller would make it. After a warm-up (the JIT), the rows are run
// `repeat` times (default 3) and the best time kept, as the bench does for the core, both
// wall-clock and CPU time (the process's user + system time: on a shared machine it leaves
// out the time spent waiting for a core, as the bench's CPU figures for the core do).
// Prints one JSON object: rows, seconds, cpu_seconds, the summed grams (for the bench's
// parity check) and co2.js's version.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [installDir, rowsPath, repeatArg] = process.argv.slice(2);
const repeat = Math.max(1, Number(repeatArg ?? 3));
if (!installDir || !rowsPath) {
  console.error("usage: node per_call.mjs <dir where @tgwf/co2 is installed> <rows.json>");
  process.exit(2);
}
const require = createRequire(join(installDir, "package.json"));
const co2js = require("@tgwf/co2");
const pkgPath = join(installDir, "node_modules", "@tgwf", "co2", "package.json");
const version = JSON.parse(readFileSync(pkgPath, "utf8")).version;
const rows = JSON.parse(readFileSync(rowsPath, "utf8"));
const swd = new co2js.co2({ model: "swd", version: 4 });
// co2.js reports problems with console.warn and carries on: count them, keep stdout JSON.
let warnings = 0;
console.warn = () => warnings++;

function run(count) {
  let grams = 0;
  for (let i = 0; i < count; i++) {
    const client = rows.client_intensity[i];
    const options = {
      gridIntensity: { device: client, network: client, dataCenter: rows.server_intensity[i] },
    };
    grams += swd.perByteTrace(rows.bytes[i], false, options).co2;
  }
  return grams;
}

const total = rows.bytes.length;
run(Math.min(total, 20000)); // let the JIT compile the hot path first, as a long run would
let seconds = Infinity;
let cpuSeconds = Infinity;
let grams = 0;
for (let i = 0; i < repeat; i++) {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  grams = run(total);
  seconds = Math.min(seconds, Number(process.hrtime.bigint() - started) / 1e9);
  const used = process.cpuUsage(cpu);
  cpuSeconds = Math.min(cpuSeconds, (used.user + used.system) / 1e6);
}
const answer = {
  rows: total, seconds, cpu_seconds: cpuSeconds, repeat, total_g: grams, warnings,
  co2js_version: version,
};
console.log(JSON.stringify(answer));
