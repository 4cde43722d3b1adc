#!/usr/bin/env node
// Generates the Prisma client into src/generated/prisma.
//
// `prisma generate` only needs the wasm schema tooling, but the CLI still insists on a native
// schema-engine binary, which it downloads on first use. Where that download is impossible
// (offline builds, locked-down CI) we point PRISMA_SCHEMA_ENGINE_BINARY at an existing file:
// generate never executes it. Where the download works, the normal path is taken.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
let cli;
try {
  cli = require.resolve('prisma/build/index.js', { paths: [root] });
} catch {
  // Production installs (npm ci --omit=dev) ship a client generated at build time.
  console.log('prisma CLI not installed; skipping client generation');
  process.exit(0);
}

function generate(extraEnv) {
  return spawnSync(process.execPath, [cli, 'generate'], {
    cwd: root,
    env: { ...process.env, ...extraEnv },
    encoding: 'utf8',
  });
}

let result = generate({});
if (result.status !== 0 && !process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const placeholder = path.join(root, 'package.json');
  if (fs.existsSync(placeholder)) {
    console.log('schema engine unavailable; generating with the wasm tooling only');
    result = generate({ PRISMA_SCHEMA_ENGINE_BINARY: placeholder });
  }
}
process.stdout.write(result.stdout ?? '');
process.stderr.write(result.stderr ?? '');
process.exit(result.status ?? 1);
