#!/usr/bin/env node
// `npx mtactl` (the workspace's `bin`): runs the bundle dist/apps/mtactl/main.js, building it
// first when it is missing or older than any file it was built from (the sources its source
// map lists), so a fresh clone needs only `npm ci`. The build is the same `vite build` as
// `nx run mtactl:build` (about a second, once); later runs only stat those files. Where the
// sources are absent (the container image ships dist/ alone) the bundle is used as it is.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const main = path.join(root, 'dist/apps/mtactl/main.js');
const config = path.join(root, 'tools/vite.app.config.mts');

function stale() {
  if (!existsSync(main)) return 'not built yet';
  const built = statSync(main).mtimeMs;
  let sources;
  try {
    sources = JSON.parse(readFileSync(`${main}.map`, 'utf8')).sources;
  } catch {
    return existsSync(config) ? 'no source map' : false;
  }
  const inputs = [
    ...sources.map((s) => path.resolve(path.dirname(main), s)),
    config,
    path.join(root, 'tsconfig.base.json'),
  ];
  const changed = inputs.find((file) => existsSync(file) && statSync(file).mtimeMs > built);
  return changed ? `${path.relative(root, changed)} changed` : false;
}

const why = stale();
if (why && existsSync(config)) {
  process.stderr.write(`mtactl: building dist/apps/mtactl (${why}) ...\n`);
  const { build } = await import('vite');
  await build({ configFile: config, mode: 'mtactl', logLevel: 'error' });
}
createRequire(import.meta.url)(main);
