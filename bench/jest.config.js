// Benchmarks, not tests: run on demand with `npx jest -c bench/jest.config.js --runInBand`, never
// by `npm test` (whose jest config has roots: ['<rootDir>/test']). The same ts-jest transform as
// the tests, so the application's decorators compile without a build step.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  testEnvironment: 'node',
  roots: ['<rootDir>/bench'],
  testMatch: ['<rootDir>/bench/**/*.bench.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 120000,
  maxWorkers: 1,
};
