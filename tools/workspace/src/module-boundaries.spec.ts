import { ESLint } from 'eslint';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The arrows of DESIGN.md's library table are enforced by ESLint (`npm test` runs lint).
 * These cases prove the rule bites: each forbidden import must fail, each allowed one pass.
 */
const root = path.resolve(__dirname, '../../..');
const eslint = new ESLint({ cwd: root });

/** The messages of the boundary rules: the tags (Nx) and, for `layer:pure`, no I/O modules. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const probe = x;\n`, {
    filePath: path.join(root, file),
  });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@nx/enforce-module-boundaries' || m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('module boundaries', () => {
  // The rule reads Nx's cached project graph; make sure it is there and current.
  beforeAll(() => {
    execFileSync('npx', ['nx', 'show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'pipe',
    });
  });

  it.each([
    [
      'libs/smtp/protocol/src/probe.ts',
      "import { Injectable as x } from '@nestjs/common';",
      /not allowed to import "@nestjs\/common"/,
    ],
    [
      'libs/smtp/protocol/src/probe.ts',
      "import { Queue as x } from 'bullmq';",
      /not allowed to import "bullmq"/,
    ],
    [
      'libs/smtp/protocol/src/probe.ts',
      "import { loadConfig as x } from '@mta/config';",
      /can only depend on libs tagged with/,
    ],
    [
      'libs/smtp/client/src/probe.ts',
      "import { PrismaClient as x } from '@prisma/client';",
      /not allowed to import "@prisma\/client"/,
    ],
    [
      'libs/config/src/probe.ts',
      "import { QueueName as x } from '@mta/queue';",
      /can only depend on libs tagged with/,
    ],
    [
      // A lib outside feature-mx's own dependencies, so the tag rule speaks, not the cycle check.
      'libs/smtp/client/src/probe.ts',
      "import { MxModule as x } from '@mta/feature-mx';",
      /can only depend on libs tagged with/,
    ],
    [
      'libs/config/src/probe.ts',
      "import { bootstrapService as x } from '@mta/runtime';",
      /Circular dependency|can only depend/,
    ],
    [
      'libs/queue/src/probe.ts',
      "import { DbModule as x } from '@mta/db';",
      /can only depend on libs tagged with/,
    ],
    [
      'libs/feature/mx/src/probe.ts',
      "import { SubmissionModule as x } from '@mta/feature-submission';",
      /can only depend on libs tagged with/,
    ],
    [
      'libs/runtime/src/probe.ts',
      "import { freePort as x } from '@mta/testing';",
      /can only depend on libs tagged with/,
    ],
    [
      // runtime is what features stand on, not a feature: it may not import one.
      'libs/runtime/src/probe.ts',
      "import { MxModule as x } from '@mta/feature-mx';",
      /Circular dependency|can only depend on libs tagged with/,
    ],
    ['libs/smtp/protocol/src/probe.ts', "import x from 'node:net';", /layer:pure library does no I\/O/],
    ['libs/mail/src/probe.ts', "import x from 'fs';", /layer:pure library does no I\/O/],
    ['libs/dns/src/probe.ts', "import { Redis as x } from 'ioredis';", /not allowed to import "ioredis"/],
  ])('refuses in %s: %s', async (file, code, why) => {
    const errors = await boundaryErrors(file, code);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(why);
  });

  it.each([
    ['libs/smtp/client/src/probe.ts', "import { SmtpError as x } from '@mta/smtp-protocol';"],
    ['libs/feature/mx/src/probe.ts', "import { bootstrapService as x } from '@mta/runtime';"],
    ['libs/runtime/src/probe.ts', "import { loadConfig as x } from '@mta/config';"],
    ['libs/queue/src/probe.spec.ts', "import { freePort as x } from '@mta/testing';"],
    ['apps/mx/src/probe.ts', "import { MxModule as x } from '@mta/feature-mx';"],
    // layer:framework-free libraries may open sockets.
    ['libs/smtp/client/src/probe.ts', "import x from 'node:net';"],
    ['libs/intake/src/probe.ts', "import { insertMessages as x } from '@mta/queue-state';"],
  ])('allows in %s: %s', async (file, code) => {
    expect(await boundaryErrors(file, code)).toEqual([]);
  });
});
