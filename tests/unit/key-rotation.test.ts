import { execFileSync } from 'node:child_process';
import { jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { loadKeyRing } from '../../shared/tokens/key-ring.js';
import { newSecret, rotateSecret } from '../../tools/key-rotation.js';

const kidsOf = (value: string) => (JSON.parse(value) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

async function signWith(value: string) {
  const ring = await loadKeyRing(loadConfig({ ROGER_SIGNING_KEYS: value }).oauth.signingKeys);
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: ring.signing.kid }).setExpirationTime('5m').sign(ring.signing.key);
}

async function verifiesWith(value: string, token: string): Promise<boolean> {
  const ring = await loadKeyRing(loadConfig({ ROGER_SIGNING_KEYS: value }).oauth.signingKeys);
  try {
    await jwtVerify(token, async (header) => ring.verificationKey(header.kid!) ?? Promise.reject(new Error('unknown kid')));
    return true;
  } catch {
    return false;
  }
}

describe('generated secrets and their rotation (tools/keys)', () => {
  it('makes values the app accepts, all different', () => {
    for (const kind of ['signing-keys', 'onedrive-token-keys', 'lookup-keys', 'operator-key'] as const) {
      const a = newSecret(kind);
      expect(a).not.toBe(newSecret(kind));
      expect(a).not.toMatch(/\s/);
    }
    expect(newSecret('operator-key')).toHaveLength(43);
    const config = loadConfig({ ROGER_SIGNING_KEYS: newSecret('signing-keys'), ONEDRIVE_TOKEN_KEYS: newSecret('onedrive-token-keys') });
    expect(config.oauth.signingKeys!.keys).toHaveLength(1);
    expect(config.microsoft.tokenKeys!.keys).toHaveLength(1);
    expect(loadConfig({ ROGER_LOOKUP_KEYS: newSecret('lookup-keys') }).lookupKeys!.keys).toHaveLength(1);
  });

  it('rotates the lookup keys: after a promotion the new key hashes first and the old one is still tried', () => {
    const first = newSecret('lookup-keys');
    const promoted = rotateSecret('lookup-keys', 'promote', rotateSecret('lookup-keys', 'stage', first));
    expect(kidsOf(promoted)).toEqual([kidsOf(promoted)[0], kidsOf(first)[0]]);
    expect(kidsOf(rotateSecret('lookup-keys', 'retire', promoted))).toEqual([kidsOf(promoted)[0]]);
  });

  it('rotates a signing key so that no token in flight is ever rejected', async () => {
    const first = newSecret('signing-keys');
    const oldToken = await signWith(first);

    const staged = rotateSecret('signing-keys', 'stage', first);
    expect(kidsOf(staged)[0]).toBe(kidsOf(first)[0]); // still signs with the old key...
    expect(kidsOf(staged)).toHaveLength(2); // ...while every instance learns the new one
    const promoted = rotateSecret('signing-keys', 'promote', staged);
    expect(kidsOf(promoted)).toEqual([kidsOf(staged)[1], kidsOf(staged)[0]]);
    const newToken = await signWith(promoted);

    // Instances still on the staged set verify new tokens; promoted instances verify old ones.
    expect(await verifiesWith(staged, newToken)).toBe(true);
    expect(await verifiesWith(promoted, oldToken)).toBe(true);
    const retired = rotateSecret('signing-keys', 'retire', promoted);
    expect(kidsOf(retired)).toEqual([kidsOf(promoted)[0]]);
    expect(await verifiesWith(retired, newToken)).toBe(true);
    expect(await verifiesWith(retired, oldToken)).toBe(false);
  });

  it('rotates OneDrive token keys the same way and refuses steps out of order', () => {
    const first = newSecret('onedrive-token-keys');
    const staged = rotateSecret('onedrive-token-keys', 'stage', `${first}\n`);
    expect(() => rotateSecret('onedrive-token-keys', 'stage', staged)).toThrow(/promote or retire/);
    expect(() => rotateSecret('onedrive-token-keys', 'promote', first)).toThrow(/stage a new one first/);
    expect(kidsOf(rotateSecret('onedrive-token-keys', 'promote', staged))[0]).toBe(kidsOf(staged)[1]);
    expect(() => rotateSecret('operator-key', 'stage', newSecret('operator-key'))).toThrow(/use "new"/);
  });

  it('refuses a current value the app would refuse, without echoing it', () => {
    const broken = JSON.stringify({ keys: [{ kid: 'a', key: 'c2VjcmV0LXZhbHVl' }] });
    expect(() => rotateSecret('onedrive-token-keys', 'stage', broken)).toThrow(/would be refused by the app: ONEDRIVE_TOKEN_KEYS/);
    try {
      rotateSecret('onedrive-token-keys', 'stage', broken);
    } catch (error) {
      expect((error as Error).message).not.toContain('c2VjcmV0LXZhbHVl');
    }
  });

  it('the built CLI writes only the value to stdout, and a usage line to stderr on misuse', () => {
    const value = execFileSync(process.execPath, ['dist/tools/keys.js', 'new', 'onedrive-token-keys'], { encoding: 'utf8' });
    expect(() => loadConfig({ ONEDRIVE_TOKEN_KEYS: value })).not.toThrow();
    const staged = execFileSync(process.execPath, ['dist/tools/keys.js', 'stage', 'onedrive-token-keys'], {
      input: value,
      encoding: 'utf8',
    });
    expect(kidsOf(staged)).toHaveLength(2);
    expect(() => execFileSync(process.execPath, ['dist/tools/keys.js', 'rotate', 'everything'], { stdio: 'pipe' })).toThrow(
      /usage: keys.js new/,
    );
  });
});
