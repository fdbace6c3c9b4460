#!/usr/bin/env node
// dumpkit's command-line front end for the Kaitai Struct compiler's JS build.
//
// The npm package exposes only a programmatic API (compile(lang, spec, importer, debug)),
// so this script parses the YAML itself, resolves imports and writes the files it returns.
//
//   node ksc.js [--version] [-t python] [-I DIR]... [--python-relative-imports] -d OUT FILE.ksy...
"use strict";
const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");
const compiler = require("kaitai-struct-compiler");

function usage(msg) {
  if (msg) process.stderr.write(`ksc.js: ${msg}\n`);
  process.stderr.write("usage: ksc.js [-t LANG] [-I DIR]... [--python-relative-imports] -d OUTDIR FILE.ksy...\n");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { lang: "python", importDirs: [], outDir: null, relImports: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--version") {
      process.stdout.write(`kaitai-struct-compiler ${compiler.version} (JS build ${compiler.buildDate})\n`);
      process.exit(0);
    } else if (a === "-t") opts.lang = argv[++i];
    else if (a === "-I") opts.importDirs.push(argv[++i]);
    else if (a === "-d") opts.outDir = argv[++i];
    else if (a === "--python-relative-imports") opts.relImports = true;
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (!opts.outDir || opts.files.length === 0) usage("need -d OUTDIR and at least one .ksy");
  return opts;
}

function loadYaml(file) {
  return yaml.load(fs.readFileSync(file, "utf8"), { filename: file });
}

function makeImporter(mainDir, importDirs) {
  return {
    importYaml(name, mode) {
      // "rel": already joined with the importing spec's directory, relative to the main spec.
      // "abs": resolve against the -I directories.
      const bases = mode === "rel" ? [mainDir] : importDirs.concat([mainDir]);
      for (const base of bases) {
        const candidate = path.join(base, `${name}.ksy`);
        if (fs.existsSync(candidate)) return Promise.resolve(loadYaml(candidate));
      }
      return Promise.reject(new Error(`import '${name}' (${mode}) not found in ${bases.join(", ")}`));
    },
  };
}

function relativize(source, moduleNames) {
  // Generated code imports other specs as top-level modules; make them package-relative.
  return source.replace(/^import (\w+)$/gm, (line, mod) =>
    moduleNames.has(mod) ? `from . import ${mod}` : line);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.outDir, { recursive: true });
  let failed = false;
  for (const file of opts.files) {
    try {
      const spec = loadYaml(file);
      const out = await compiler.compile(opts.lang, spec, makeImporter(path.dirname(file), opts.importDirs), false);
      const names = new Set(Object.keys(out).map((f) => f.replace(/\.py$/, "")));
      for (const [name, text] of Object.entries(out)) {
        const body = opts.relImports ? relativize(text, names) : text;
        fs.writeFileSync(path.join(opts.outDir, name), body);
        process.stdout.write(`${file} -> ${path.join(opts.outDir, name)}\n`);
      }
    } catch (err) {
      failed = true;
      process.stderr.write(`${file}: ${err && err.toString ? err.toString() : err}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main();
