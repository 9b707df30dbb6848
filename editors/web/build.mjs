// Builds the page into cli/web_page/ of the Python package (ignored by git; package data, so a
// wheel built after this step carries the page and `papercycle web` serves it from the
// installed package): one bundle from src/ and the static files. Reproducible from the
// lockfile: `npm ci && npm run build`.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

const out = new URL("../../cli/web_page/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  outfile: `${out}app.js`,
  logLevel: "warning",
});
cpSync("static", out, { recursive: true });
console.log(`built ${out}`);
