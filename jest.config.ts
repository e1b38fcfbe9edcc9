import type { Config } from 'jest';

// Specs run from TypeScript sources, transpiled only (tsconfig's isolatedModules): `npm run
// typecheck` checks types once instead of ts-jest re-checking every file. End-to-end specs run the built CLI in dist/.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30_000,
  // Real sockets and child processes: two workers on the 2-core CI machine.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/spec/support/summaryReporter.js'],
};

export default config;
