/**
 * The one Vitest configuration every project uses, so that path aliases, decorator
 * metadata (Nest DI) and test-file conventions are the same everywhere.
 *
 * Unit tests:        src/**\/*.spec.ts       (one unit, mocks allowed)
 * Integration tests: src/**\/*.int.spec.ts   (real Redis, PostgreSQL, sockets, peers)
 */
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function projectConfig(projectDir: string, name: string) {
  return defineConfig({
    root: projectDir,
    cacheDir: path.join(workspaceRoot, 'node_modules/.vite', name),
    resolve: { tsconfigPaths: true },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.spec.ts'],
      globals: false,
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: ['default'],
      passWithNoTests: false,
    },
  });
}
