// One flat config for the whole workspace. The module-boundary rule below is the
// machine-checked form of the library table in DESIGN.md: each tag may only depend on
// the tags listed. `layer:framework-free` libraries (they may open sockets: dns, the SMTP
// client and server) import no Nest, BullMQ, Redis, Prisma or pg; `layer:pure` ones (the SMTP
// protocol, mail) do no I/O either (the no-restricted-imports block below).
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

const FRAMEWORKS = ['@nestjs/*', 'bullmq', 'ioredis', '@prisma/*', 'prisma', 'pg'];

/** Node modules that do I/O, which a `layer:pure` library may not import. */
const IO_MODULES = ['net', 'tls', 'dns', 'dgram', 'http', 'https', 'http2', 'fs', 'fs/promises', 'child_process'];

/** The source of the `layer:pure` projects (libs/smtp/protocol, libs/mail). */
const PURE_SOURCES = ['libs/smtp/protocol/src/**/*.ts', 'libs/mail/src/**/*.ts'];

/** Which project tags may import which. Projects carry one `type:` and one `scope:` tag. */
const constraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:runtime', 'type:util'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:util', 'type:runtime'] },
  // libs/runtime: the core module every service stands on and bootstrapService; not a feature.
  { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:util', 'type:feature', 'type:runtime', 'type:testing'],
  },
  // The library table of DESIGN.md.
  { sourceTag: 'scope:smtp-protocol', onlyDependOnLibsWithTags: ['none'] },
  { sourceTag: 'scope:smtp-server', onlyDependOnLibsWithTags: ['scope:smtp-protocol'] },
  { sourceTag: 'scope:smtp-client', onlyDependOnLibsWithTags: ['scope:smtp-protocol'] },
  { sourceTag: 'scope:mail', onlyDependOnLibsWithTags: ['scope:smtp-protocol'] },
  { sourceTag: 'scope:dns', onlyDependOnLibsWithTags: ['none'] },
  { sourceTag: 'scope:queue', onlyDependOnLibsWithTags: ['none'] },
  { sourceTag: 'scope:db', onlyDependOnLibsWithTags: ['none'] },
  { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['none'] },
  { sourceTag: 'scope:config', onlyDependOnLibsWithTags: ['none'] },
  // The all-in-one's process supervisor (node:child_process, node:http, and prom-client for metrics).
  { sourceTag: 'scope:supervisor', onlyDependOnLibsWithTags: ['none'] },
  { sourceTag: 'scope:observability', onlyDependOnLibsWithTags: ['none'] },
  // policy reads each account's own rate limits (accounts.rate_limits) from the database.
  { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:dns', 'scope:queue', 'scope:db'] },
  // tls-policy: MTA-STS, DANE and TLS-RPT for outbound TLS (what a delivery may connect to, and how).
  { sourceTag: 'scope:tls-policy', onlyDependOnLibsWithTags: ['scope:smtp-client', 'scope:dns'] },
  // The owner of a message's life (states, transitions, the statements that move them, job planning).
  { sourceTag: 'scope:queue-state', onlyDependOnLibsWithTags: ['scope:db', 'scope:queue'] },
  {
    sourceTag: 'scope:delivery',
    onlyDependOnLibsWithTags: [
      'scope:smtp-protocol',
      'scope:smtp-client',
      'scope:dns',
      'scope:tls-policy',
      'scope:db',
      'scope:queue',
      'scope:queue-state',
      'scope:mail',
      'scope:config',
      'scope:observability',
    ],
  },
  {
    sourceTag: 'scope:intake',
    onlyDependOnLibsWithTags: [
      'scope:smtp-protocol',
      'scope:smtp-server',
      'scope:mail',
      'scope:db',
      'scope:queue',
      'scope:queue-state',
      'scope:auth',
      'scope:policy',
      'scope:config',
      'scope:observability',
    ],
  },
  // scope:policy: the queue manager DKIM-signs the DSNs it writes (the signer lives in @mta/policy).
  {
    sourceTag: 'scope:queue-manager',
    onlyDependOnLibsWithTags: [
      'scope:db',
      'scope:queue',
      'scope:queue-state',
      'scope:mail',
      'scope:smtp-protocol',
      'scope:policy',
      'scope:config',
      'scope:observability',
    ],
  },
  // webhooks: the outbox of events (db), its own BullMQ queue, the event vocabulary (queue-state).
  {
    sourceTag: 'scope:webhooks',
    onlyDependOnLibsWithTags: ['scope:db', 'scope:queue', 'scope:queue-state', 'scope:config', 'scope:observability'],
  },
  { sourceTag: 'layer:framework-free', bannedExternalImports: FRAMEWORKS },
];

/** Tests may also use the test harness (and a pure lib's tests stay free of Nest etc.). */
const testConstraints = constraints.map((c) =>
  c.onlyDependOnLibsWithTags
    ? { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:testing'] }
    : c,
);

const boundaries = (depConstraints) => ({
  '@nx/enforce-module-boundaries': [
    'error',
    {
      enforceBuildableLibDependency: true,
      allow: [],
      depConstraints,
      checkDynamicDependenciesExceptions: [],
    },
  ],
});

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  prettier,
  {
    ignores: ['**/dist', '**/node_modules', '**/tmp', '**/generated/**', '**/.nx'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      ...boundaries(constraints),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Tests and their helpers (a lib's src/testing/, src/test/ or src/e2e/ folder, *.testutil.ts)
    // may use the harness.
    files: [
      '**/*.spec.ts',
      '**/*.testutil.ts',
      'libs/**/src/testing/**/*.ts',
      'libs/**/src/test/**/*.ts',
      'libs/**/src/e2e/**/*.ts',
      'tools/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: { ...boundaries(testConstraints), 'no-console': 'off' },
  },
  {
    // `layer:pure`: no I/O, so the protocol and message code runs the same anywhere (tests too).
    files: PURE_SOURCES,
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.flatMap((m) => [m, `node:${m}`]).map((name) => ({
            name,
            message: 'a layer:pure library does no I/O (see eslint.config.mjs)',
          })),
        },
      ],
    },
  },
  {
    // Each project's test runner config imports the shared one in tools/: tooling, not code.
    files: ['**/vite.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
