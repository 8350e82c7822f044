// Builds the web app into web/dist for the path it is served under (/app/, docs/web-app.md).
// Hashed file names under assets/ let the host cache them for good; index.html is never cached.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/app/',
  plugins: [react()],
  // Vite's 500 kB warning counts raw bytes; what we hold the app to is the gzipped size of the
  // JavaScript loaded first (300 KB, tools/web-budget.mjs), so Vite warns only well past Fluent's share.
  // Source maps 'hidden': written beside the files, named by none of them. The pipeline keeps them
  // in the build artifact, to read a stack trace someone reports, and does not publish them: a
  // browser never asks for them, and a year of immutable public copies of the source serves no one.
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: 'hidden', chunkSizeWarningLimit: 800 },
});
