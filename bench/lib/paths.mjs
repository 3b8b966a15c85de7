// Where the repository is, and `require` resolving from its root (pg, ioredis from node_modules).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const requireRoot = createRequire(path.join(root, 'package.json'));
