import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Builds the renderer into dist/renderer, served by Electron (app:// protocol) and by `hcm ui`.
// Relative asset URLs so both hosts can serve it from any base; no inline scripts (strict CSP).
// No Node built-ins here either (src/renderer's lint rule): Vite gives its config import.meta.dirname.
const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: `${here}/../../dist/renderer`,
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
});
