/**
 * Builds one app (`--mode <app name>`) into dist/apps/<app>/main.js: our libs are bundled
 * (path aliases resolved from tsconfig), npm packages stay external and load from
 * node_modules. Output is CommonJS, which Nest 11 and its ecosystem expect. Vite's
 * transformer honours `emitDecoratorMetadata`, so Nest's dependency injection works.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default defineConfig(({ mode }) => ({
  root,
  logLevel: 'warn',
  resolve: { tsconfigPaths: true },
  ssr: { target: 'node', noExternal: [] },
  build: {
    ssr: path.join(root, 'apps', mode, 'src/main.ts'),
    outDir: path.join(root, 'dist/apps', mode),
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    minify: false,
    rollupOptions: {
      external: [...builtinModules, /^node:/],
      output: { format: 'cjs', entryFileNames: 'main.js' },
    },
  },
}));
