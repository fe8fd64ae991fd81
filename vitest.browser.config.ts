import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: opens the demo's HTML report in headless Chromium (Debian's `chromium`, or
 * CHROMIUM_PATH). Kept apart from `npm test`, which needs no browser and does not include test/browser.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
