// Shared jest configuration: TypeScript through @swc/jest, emitted as ES modules so that
// the tests run the same ESM code the packages ship (jest runs with --experimental-vm-modules).
export function jestConfig(extra = {}) {
  return {
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { target: 'es2022', parser: { syntax: 'typescript' }, keepClassNames: true },
          module: { type: 'es6' },
          sourceMaps: 'inline',
        },
      ],
    },
    // Sources import siblings as './x.js' (NodeNext); in tests those resolve to './x.ts'.
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testTimeout: 60_000,
    ...extra,
  };
}
