// ESLint (flat config): `npm run lint`, run by `npm test` (so by .ci/run).
// The rules are few on purpose: each catches something tsc does not. See CONTRIBUTING.md.
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The layer map of CONTRIBUTING.md, as import-x/no-restricted-paths zones: `target` may not import `from`.
const layers = [
  { target: './lib/manifest', from: ['./lib/constructs', './lib/runtime', './lib/review', './lib/synth', './lib/cli'] },
  { target: './lib/synth', from: ['./lib/constructs', './lib/runtime', './lib/review', './lib/cli'] },
  { target: './lib/review', from: ['./lib/constructs', './lib/runtime', './lib/cli'] },
  { target: './lib/runtime', from: ['./lib/constructs', './lib/review', './lib/cli'] },
  { target: './lib/constructs', from: ['./lib/runtime', './lib/review', './lib/cli'] },
  { target: './lib/cli', from: './lib/constructs' },
  // The package's entry is the jsii API: no Node-typed runtime in it.
  { target: './lib/index.ts', from: './lib/runtime' },
  // Nothing imports the CLI (it is the bin's entry); tests of it do.
  { target: ['./lib/!(cli)/**', './lib/index.ts', './support', './bench', './scripts'], from: './lib/cli' },
  // The library never reaches into the test, demo and bench helpers.
  { target: './lib', from: ['./support', './bench', './test', './scripts'] },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**', '**/*.d.ts', 'lib/**/*.js', // lib's .js are tsc output (and the generated schema check and bundle)
      'dist/**', 'cdktf.out/**', '.gen/**', 'coverage/**', 'bench/out/**', 'examples/**', 'test/languages/cdktn/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: 'module',
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
      // Without these, import-x cannot parse a TypeScript dependency: no-cycle would see no imports in it.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // aws-cdk's and cdk8s-plus's limit.
      'max-len': ['error', { code: 150, ignoreUrls: true }],
      // Node builtins, packages, then the project's own files.
      'import-x/order': ['error', { groups: ['builtin', 'external', ['internal', 'parent', 'sibling', 'index']] }],
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      'import-x/no-duplicates': 'error',
    },
  },
  {
    // Type-aware rules: TypeScript files only, typed by tsconfig.dev.json (lib, test, support, bench, scripts).
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.dev.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection ends the helper) and its ordering.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // A cycle in the library makes load order decide what is undefined at import time.
    files: ['lib/**/*.ts'],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // CommonJS scripts, jest's setup files and bench workers.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
