// Builds the page into dist/ (ignored; `papercycle web` serves it): one bundle from src/ and
// the static files. Reproducible from the lockfile: `npm ci && npm run build`.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

const out = new URL("./dist/", import.meta.url).pathname;
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
