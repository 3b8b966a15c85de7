#!/usr/bin/env bash
# Creates the three project files of a library: tools/new-lib.sh <dir> <nx-name> <tags-json>
# e.g. tools/new-lib.sh libs/dns dns '["type:util","scope:dns","layer:pure"]'
set -euo pipefail
dir=$1 name=$2 tags=$3
up=$(echo "$dir" | sed -E 's#[^/]+#..#g')
mkdir -p "$dir/src"
cat > "$dir/project.json" <<JSON
{
  "name": "$name",
  "\$schema": "$up/node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "library",
  "tags": $tags,
  "targets": { "lint": {}, "typecheck": {}, "test": {} }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "$up/tsconfig.base.json",
  "include": ["src/**/*.ts", "vite.config.ts"]
}
JSON
cat > "$dir/vite.config.ts" <<TS
import { projectConfig } from '$up/tools/vitest.project';

export default projectConfig(__dirname, '$name');
TS
