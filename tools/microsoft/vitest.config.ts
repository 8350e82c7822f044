import { defineConfig } from 'vitest/config';

// Its own config, so `npm test` here does not pick up the app's (which builds the app first).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
