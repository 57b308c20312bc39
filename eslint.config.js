// @ts-check
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

// The modules, lowest first. A module may import only the modules listed for it, and only
// through their index.ts (see docs/architecture.md).
const modules = {
  'tenant-tiers': [],
  k8s: ['tenant-tiers'],
  'data-plane': ['tenant-tiers'],
  ml: ['data-plane'],
  'local-cloud': [],
  'control-plane': ['tenant-tiers', 'k8s', 'data-plane', 'ml', 'local-cloud'],
  dashboards: ['data-plane', 'ml'],
  // Entry points, benchmarks and end-to-end tests may use every module.
  bin: ['tenant-tiers', 'k8s', 'data-plane', 'ml', 'local-cloud', 'control-plane', 'dashboards'],
  bench: ['tenant-tiers', 'k8s', 'data-plane', 'ml', 'local-cloud', 'control-plane', 'dashboards', 'bin'],
  test: ['tenant-tiers', 'k8s', 'data-plane', 'ml', 'local-cloud', 'control-plane', 'dashboards', 'bin'],
};

/** The files of a module that other modules may import. */
const PUBLIC_ENTRIES = ['index.ts', 'infra/index.ts'];

/**
 * The boundary rule's options. `extra` names modules every module may also import: tests and
 * their fixtures may use the local cloud, which the code under test may not.
 */
function dependencyPolicies(extra) {
  return {
    default: 'allow',
    policies: Object.entries(modules).flatMap(([name, allowed]) => [
      { from: { element: { type: name } }, disallow: { to: { element: { types: { noneOf: [name, ...allowed, ...extra] } } } } },
      // Another module's internals are private: only its index.ts is public, and infra/index.ts for its
      // CDK constructs (apart, so runtime code never loads aws-cdk-lib). bin/ is no module: its files
      // are entry points, which end-to-end tests may start.
      { from: { element: { type: name } }, disallow: { to: { element: { types: { noneOf: [name, 'bin'] }, internalPath: `!(${PUBLIC_ENTRIES.join('|')})` } } } },
    ]),
  };
}

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'cdk.out/', 'bench/results/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { alwaysTryTypes: true } },
      'boundaries/elements': Object.keys(modules).map((name) => ({ type: name, pattern: name })),
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'boundaries/dependencies': ['error', dependencyPolicies([])],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration once in bin/config.ts and pass it down.' },
      ],
    },
  },
  {
    files: ['bin/config.ts', 'data-plane/analytics/lambda-handler.ts', 'data-plane/identity-events/lambda-handler.ts', 'eslint.config.js', 'vitest.config.ts', '**/*.test.ts', '**/testing/**', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.test.ts', '**/testing/**'],
    rules: { 'boundaries/dependencies': ['error', dependencyPolicies(['local-cloud'])] },
  },
  {
    files: ['**/*.test.ts', 'test/**'],
    rules: {
      // HTTP response bodies are `any` in supertest; tests assert on their shape instead.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name=/^(it|describe|test)$/][property.name=/^(only|skip)$/]", message: 'Committed tests never use .only or .skip.' },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
