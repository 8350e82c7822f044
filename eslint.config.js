// ESLint (flat config): the recommended JavaScript and typescript-eslint rules over the whole
// repository, and nothing that Prettier decides (eslint-config-prettier turns those off).
// `npx eslint .` must report zero problems; `.ci/run` runs it with --max-warnings 0.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '**/node_modules/',
      'dist/',
      'web/dist/',
      'clients/*/dist/',
      'dist-publish/',
      'coverage/',
      'test-results/',
      'bench/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks a value left out on purpose (a destructured field dropped from a copy).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The web app runs in the browser.
    files: ['web/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Tests read JSON answers loosely in assertions; production code types its boundaries.
    files: ['tests/**', 'tools/*/test/**', 'clients/*/test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
