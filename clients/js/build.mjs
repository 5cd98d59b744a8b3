// Bundles the chat page (page/) with the pinned esbuild into examples/serve_page/: page.js,
// page.css and index.html, which the `serve` example embeds. The output depends only on the
// sources and the locked packages (no source maps, no absolute paths, no timestamps), so
// scripts/js-sdk-tests.sh rebuilds it and fails when it differs from what is committed.
// `node build.mjs --out DIR` writes elsewhere (the script's comparison).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf("--out");
const out = at === -1 ? resolve(here, "../../examples/serve_page") : resolve(process.argv[at + 1]);

mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: { page: "page/main.jsx" },
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
copyFileSync(join(here, "page/index.html"), join(out, "index.html"));
