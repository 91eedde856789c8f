// ESLint (flat config) with typescript-eslint's type-aware rules, and the layering of
// docs/architecture.md as import rules checked at lint time. Formatting is Prettier's job.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Relative imports a folder may not make (its own folder is always allowed). */
function layer(folder, forbidden, extra = {}) {
  return {
    files: [`src/${folder}/**/*.{ts,tsx,cts}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidden.map((other) => ({
              group: [`**/${other}/*`, `../${other}`, `../../${other}`],
              message: `src/${folder} may not import from src/${other} (docs/architecture.md, Layering).`,
            })),
            ...(extra.patterns ?? []),
          ],
          paths: extra.paths ?? [],
        },
      ],
      // no-restricted-imports does not see import(): the same rule for dynamic imports.
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression[source.value=/^(\\.\\.?\\/)+(${forbidden.join('|')})\\//]`,
          message: `src/${folder} may not import from ${forbidden.map((f) => `src/${f}`).join(', ')} (docs/architecture.md, Layering).`,
        },
      ],
    },
  };
}

const electronOnlyInMain = {
  patterns: [{ group: ['electron', 'electron/*', 'electron-updater'], message: 'Electron is imported only in src/main.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'bench/results/**', '.ci/node/**', 'assets/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['src/renderer/vite.config.ts', 'eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The code is strict TypeScript already; these add noise without finding defects here.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  // Layering (docs/architecture.md): imports flow relay <- core <- {main, cli}; renderer -> shared.
  layer('shared', ['relay', 'core', 'cli', 'main', 'renderer', 'emulator', 'bench'], {
    // The contract has no runtime dependencies at all: no packages, no Node built-ins.
    patterns: [{ regex: '^[^.]', message: 'src/shared imports no package and no Node built-in.' }],
  }),
  layer('relay', ['shared', 'core', 'cli', 'main', 'renderer', 'emulator', 'bench'], electronOnlyInMain),
  layer('emulator', ['shared', 'core', 'cli', 'main', 'renderer', 'bench'], electronOnlyInMain),
  layer('core', ['cli', 'main', 'renderer', 'emulator', 'bench'], electronOnlyInMain),
  layer('cli', ['main', 'renderer', 'bench'], electronOnlyInMain),
  layer('main', ['cli', 'renderer', 'bench']),
  layer('bench', ['cli', 'main', 'renderer'], electronOnlyInMain),
  layer('renderer', ['relay', 'core', 'cli', 'main', 'emulator', 'bench'], {
    patterns: electronOnlyInMain.patterns,
    paths: nodeBuiltins.map((name) => ({ name, message: 'src/renderer runs in a browser: no Node built-ins.' })),
  }),
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests may use non-null assertions and floating test-helper promises deliberately.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        __dirname: 'readonly',
        module: 'writable',
        URL: 'readonly',
      },
    },
  },
);
