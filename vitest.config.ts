import { defineConfig } from 'vitest/config';

// One project per workspace package, so `pnpm test` in a package runs only its own files.
// Integration tests talk to the real Postgres, NATS and Redis; each file makes its own
// database and stream names, so files run in parallel.
const project = (
  name: string,
  root: string,
  { testTimeout = 30_000, include = ['test/**/*.test.ts', 'src/**/*.test.ts'] } = {},
) => ({
  test: {
    name,
    root,
    include,
    testTimeout,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      project('contracts', 'packages/contracts'),
      project('service-kit', 'packages/service-kit'),
      project('users', 'services/users'),
      project('inventory', 'services/inventory'),
      project('payments', 'services/payments'),
      project('orders', 'services/orders'),
      project('gateway', 'services/gateway'),
      project('system', 'test', { testTimeout: 180_000, include: ['**/*.test.ts'] }),
    ],
  },
});
