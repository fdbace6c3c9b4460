#!/usr/bin/env node
// Print a .ksy spec as JSON (with the pinned js-yaml), for tools/compile-ksy's bulk tables.
//   node ksy2json.js FILE.ksy
"use strict";
const fs = require("fs");
const yaml = require("js-yaml");

process.stdout.write(JSON.stringify(yaml.load(fs.readFileSync(process.argv[2], "utf8"))));
