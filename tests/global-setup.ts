import { execFileSync } from 'node:child_process';

/**
 * The smoke tests run the bundle in dist/ with plain node, so build it once before any test.
 * ROGER_SKIP_BUILD=1 skips it when running a subset that does not need dist/ (parallel work).
 */
export default function setup(): void {
  if (process.env.ROGER_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, ['tools/build.mjs'], { stdio: 'inherit' });
}
