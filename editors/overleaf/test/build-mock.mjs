// Builds the mock Overleaf page's script (test only) into dist/mock.js.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";

const out = new URL("../dist/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });
await build({ entryPoints: [new URL("./mock/mock.js", import.meta.url).pathname], bundle: true, format: "esm", outfile: `${out}mock.js`, logLevel: "warning" });
console.log(`built ${out}mock.js`);
