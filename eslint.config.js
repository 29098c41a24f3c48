// Type-aware lint tuned for a process that must not die: floating promises end PID 1.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // bin/node-version.cjs is plain old JavaScript on purpose: it must parse on any Node.
  { ignores: ['dist/', '.build/', 'node_modules/', 'examples/', 'bench/', 'scripts/', 'test/**/*.mjs', 'eslint.config.js', 'bin/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // node:test collects these promises itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
    },
  },
);
