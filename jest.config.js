// Four projects: fast unit tests (parallel), integration tests against a real Consul agent and
// real BEAM nodes (run serially: they share the machine's loopback ports and CPUs), the cluster
// tests (a server and client agents on several hosts made of network namespaces), and the
// language tests (the two-node example in Python, Go, and a CDK Terrain app, built and synthesized).
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  setupFilesAfterEnv: ['<rootDir>/test/setup.js'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  reporters: ['default', '<rootDir>/test/reporter.js'],
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/test/integration/', '/test/languages/', '/test/cluster/'],
    },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // Several hosts on one machine (network namespaces; needs root and iproute2): support/cluster.
    { ...common, displayName: 'cluster', testMatch: ['<rootDir>/test/cluster/**/*.test.ts'] },
    { ...common, displayName: 'languages', testMatch: ['<rootDir>/test/languages/**/*.test.ts'] },
  ],
};
