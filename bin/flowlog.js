#!/usr/bin/env node
// The `flowlog` command. Runs the compiled CLI (built by `npm ci` through the prepare script); in a
// checkout without dist/ it falls back to the TypeScript sources through tsx.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
if (existsSync(compiled)) cli = require(compiled);
else {
  require('tsx/cjs');
  cli = require(join(__dirname, '..', 'cli', 'main.ts'));
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`flowlog: ${error?.stack ? error.stack : String(error)}\n`);
    process.exitCode = 3;
  },
);
