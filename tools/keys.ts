// Generates and rotates the deployment's secrets (see infra/README.md, "Rotating keys"):
//   node dist/tools/keys.js new <signing-keys|onedrive-token-keys|lookup-keys|operator-key>
//   node dist/tools/keys.js <stage|promote|retire> <signing-keys|onedrive-token-keys|lookup-keys>   (current value on stdin)
// The value goes to stdout with no newline, to be piped into `az keyvault secret set --file /dev/stdin`;
// nothing else is printed on stdout, and secrets never go to stderr.
import { text } from 'node:stream/consumers';
import { newSecret, rotateSecret, secretKinds, type RotationStep, type SecretKind } from './key-rotation.js';

const [command, kind] = process.argv.slice(2);
const usage = `usage: keys.js new <${Object.keys(secretKinds).join('|')}>\n       keys.js <stage|promote|retire> <signing-keys|onedrive-token-keys|lookup-keys>  (current value on stdin)\n`;

try {
  if (!kind || !(kind in secretKinds)) throw new Error(usage);
  if (command === 'new') {
    process.stdout.write(newSecret(kind as SecretKind));
  } else if (command === 'stage' || command === 'promote' || command === 'retire') {
    process.stdout.write(rotateSecret(kind as SecretKind, command as RotationStep, await text(process.stdin)));
  } else {
    throw new Error(usage);
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message.trimEnd()}\n`);
  process.exitCode = 2;
}
