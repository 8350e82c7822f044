// Builds the web app into web/dist for the path it is served under (/app/, docs/web-app.md).
// Hashed file names under assets/ let the host cache them for good; index.html is never cached.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: true },
});
