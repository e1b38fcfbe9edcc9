import type { Config } from 'jest';

// Specs run from TypeScript sources, transpiled only (tsconfig's isolatedModules): `npm run
// typecheck` checks types once instead of ts-jest re-checking every file. End-to-end specs run
// the built CLI in dist/, and so do a router's worker threads (router.workers above 1): `npm test`
// builds first.
// `npm run test:handles` swaps in an environment that notes what each spec file leaves open, and
// adds a reporter that notes how long the workers took to exit.
const common = {
  testEnvironment: process.env.LOGGREGATOR_SPEC_HANDLES ? '<rootDir>/spec/support/openHandleEnvironment.js' : 'node',
  roots: ['<rootDir>/spec'],
  transform: { '^.+\\.ts$': 'ts-jest' },
};

// Every spec with a router on one thread; then every spec that starts a router (in process or as
// the CLI), the traffic controller's and the end-to-end ones, again with the router on two
// worker threads: the router behaves the same either way.
const oneWorker = {
  ...common,
  displayName: 'router.workers 1',
  testMatch: ['**/*.spec.ts'],
  setupFiles: ['<rootDir>/spec/support/oneRouterWorker.ts'],
};
const twoWorkers = {
  ...common,
  displayName: 'router.workers 2',
  testMatch: ['<rootDir>/spec/src/router/**/*.spec.ts', '<rootDir>/spec/src/trafficController/**/*.spec.ts', '<rootDir>/spec/src/cli/**/*.spec.ts', '<rootDir>/spec/e2e/**/*.spec.ts'],
  // These choose their workers themselves.
  testPathIgnorePatterns: ['/spec/src/router/workers\\.spec\\.ts$'],
  setupFiles: ['<rootDir>/spec/support/twoRouterWorkers.ts'],
};

const config: Config = {
  projects: [oneWorker, twoWorkers],
  testTimeout: 30_000,
  // Real sockets and child processes: two workers on the 2-core CI machine.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/spec/support/summaryReporter.js', ...(process.env.LOGGREGATOR_SPEC_HANDLES ? ['<rootDir>/spec/support/workerExitReporter.js'] : [])],
};

export default config;
