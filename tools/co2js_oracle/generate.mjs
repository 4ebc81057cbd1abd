// Runs co2.js (the reference implementation) on a grid of cases and writes its answers as a
// JSON fixture that tests/unit/test_core_oracle.py compares Empreinte's core against.
//
//   mkdir -p /tmp/co2js && (cd /tmp/co2js && npm init -y && npm install @tgwf/co2@0.19)
//   node tools/co2js_oracle/generate.mjs /tmp/co2js tests/fixtures/co2js/cases.json
//
// co2.js is installed outside the repository; only its answers (data) are kept here.
import { createRequire } from "node:module";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [installDir, outPath] = process.argv.slice(2);
if (!installDir || !outPath) {
  console.error("usage: node generate.mjs <dir where @tgwf/co2 is installed> <out.json>");
  process.exit(2);
}
const require = createRequire(join(installDir, "package.json"));
const co2js = require("@tgwf/co2");
const pkgPath = join(installDir, "node_modules", "@tgwf", "co2", "package.json");
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));

const MODELS = {
  "swd-v4": { model: "swd", version: 4 },
  "swd-v3": { model: "swd", version: 3 },
  onebyte: { model: "1byte" },
};
const BYTES = [0, 0.5, 1, 1.5, 1000, 123456, 2.5e6, 1e9, 7.3e12];
const GRIDS = [
  undefined,
  {},
  { device: 708.96, dataCenter: 44.18 },
  { device: { country: "IND" }, dataCenter: { country: "FRA" } },
  { device: { country: "DEU" }, network: { country: "usa" }, dataCenter: { country: "CHN" } },
  { device: 0, network: 0, dataCenter: 0 },
  { network: 250.5 },
  { dataCenter: { country: "XXX" } },
  { device: 1000, network: { country: "GBR" }, dataCenter: 12.3 },
];
const GREEN_HOSTING_FACTORS = [undefined, 0, 0.25, 0.5, 1];
const VISITS = [
  {},
  { firstVisitPercentage: 0.6, returnVisitPercentage: 0.4, dataReloadRatio: 0.1 },
  { firstVisitPercentage: 0, returnVisitPercentage: 1, dataReloadRatio: 0 },
];

// co2.js reports problems with console.warn and carries on; count them per case.
let warnings = [];
console.warn = (message) => warnings.push(String(message).split("\n")[0]);

function run(modelName, call, bytes, green, options) {
  warnings = [];
  const plain = new co2js.co2(MODELS[modelName]);
  const segmented = new co2js.co2({ ...MODELS[modelName], results: "segment" });
  const args = call === "perByte" ? [bytes, green] : [bytes, green, options];
  const total = call === "perByte" ? plain.perByte(bytes, green) : plain[call](...args).co2;
  const detailed = call === "perByte" ? segmented.perByte(bytes, green) : segmented[call](...args);
  const segments = call === "perByte" ? detailed : detailed.co2;
  const variables = call === "perByte" ? null : detailed.variables;
  const grid = variables
    ? {
        device: variables.gridIntensity.device.value,
        network: variables.gridIntensity.network.value,
        dataCenter: variables.gridIntensity.dataCenter.value,
      }
    : null;
  return {
    model: modelName,
    call,
    bytes,
    green,
    options: call === "perByte" ? null : options,
    co2js: {
      total,
      segments: typeof segments === "object" ? segments : null,
      trace_grid_intensity: grid,
      trace_green_hosting_factor: variables ? (variables.greenHostingFactor ?? null) : null,
      warnings: [...new Set(warnings)],
    },
  };
}

function* cases() {
  for (const modelName of Object.keys(MODELS)) {
    for (const bytes of BYTES) {
      for (const green of [false, true]) {
        yield run(modelName, "perByte", bytes, green, null);
        for (const gridIntensity of GRIDS) {
          const factors = modelName === "swd-v4" ? GREEN_HOSTING_FACTORS : [undefined];
          for (const greenHostingFactor of factors) {
            const options = {};
            if (gridIntensity !== undefined) options.gridIntensity = gridIntensity;
            if (greenHostingFactor !== undefined) options.greenHostingFactor = greenHostingFactor;
            yield run(modelName, "perByteTrace", bytes, green, options);
          }
          if (modelName === "onebyte") continue;
          for (const visit of VISITS) {
            const options = { ...visit };
            if (gridIntensity !== undefined) options.gridIntensity = gridIntensity;
            yield run(modelName, "perVisitTrace", bytes, green, options);
          }
        }
      }
    }
  }
}

const all = [...cases()].map((c, i) => ({ id: i, ...c }));
const countries = new Set();
for (const grid of GRIDS) {
  for (const segment of Object.values(grid ?? {})) {
    if (segment && typeof segment === "object") countries.add(segment.country.toUpperCase());
  }
}
const gridIntensities = {};
for (const code of [...countries, "WORLD"].sort()) {
  const value = co2js.averageIntensity.data[code];
  if (value !== undefined) gridIntensities[code] = value;
}
const fixture = {
  generator: "tools/co2js_oracle/generate.mjs",
  co2js_version: pkg.version,
  node_version: process.version,
  grid_intensity_source: "Ember annual averages via co2.js averageIntensity, CC BY-SA 4.0",
  grid_intensities: gridIntensities,
  cases: all,
};
// One case per line: compact, yet a regenerated fixture diffs line by line.
const { cases: caseList, ...header } = fixture;
const headerText = JSON.stringify(header, null, 1).replace(/\n}$/, "");
const body = caseList.map((c) => "  " + JSON.stringify(c)).join(",\n");
writeFileSync(outPath, `${headerText},\n "cases": [\n${body}\n ]\n}\n`);
console.log(`wrote ${all.length} cases from co2.js ${pkg.version} to ${outPath}`);
