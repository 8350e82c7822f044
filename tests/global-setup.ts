import { execFileSync } from 'node:child_process';

/** The smoke tests run the bundle in dist/ with plain node, so build it once before any test. */
export default function setup(): void {
  execFileSync(process.execPath, ['tools/build.mjs'], { stdio: 'inherit' });
}
