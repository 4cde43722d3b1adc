#!/usr/bin/env node
// Builds the admin page (portal/) into portal/dist, which the service serves at /portal: typed
// operations generated from schema.graphql first (GraphQL Code Generator), then `vite build`.
// Production installs (npm ci --omit=dev) have neither tool and get the portal built at build time.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

// The packages' `exports` hide their bin files from require.resolve: look where npm puts them.
function installedBin(relative) {
  const file = path.join(root, 'node_modules', relative);
  return fs.existsSync(file) ? file : undefined;
}

const codegen = installedBin('@graphql-codegen/cli/cjs/bin.js');
const vite = installedBin('vite/bin/vite.js');
if (!codegen || !vite) {
  console.log('portal build tools not installed; skipping the portal build');
  process.exit(0);
}

for (const args of [
  [codegen, '--silent', '--config', 'portal/codegen.ts'],
  [vite, 'build', '--config', 'portal/vite.config.mts'],
]) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`portal build failed: ${path.basename(args[0])} exited with ${result.status ?? result.signal}`);
    process.exit(1);
  }
}
