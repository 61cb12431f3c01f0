/**
 * The web console's build: Vite + React into dist/web with hashed file names and a manifest the
 * server reads at start (src/console/). Nothing is inlined: a strict CSP (no inline script or
 * style, no data: fonts) must hold for every file this emits.
 */
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export const CONSOLE_ROOT = import.meta.dirname;
export const CONSOLE_OUT_DIR = path.resolve(import.meta.dirname, '../../dist/web');

export default defineConfig({
  root: CONSOLE_ROOT,
  base: '/',
  publicDir: false,
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: CONSOLE_OUT_DIR,
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: false,
    // Every asset a file of its own: a data: URI font or an inlined style would need a looser CSP.
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    // The password-strength dictionaries are one large lazy chunk, loaded only by password forms.
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
});
