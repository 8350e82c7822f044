import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningKeys } from '../config/settings.js';

/** The access-token signing keys: the first signs, all verify and are published. */
export interface KeyRing {
  readonly signing: { readonly kid: string; readonly key: CryptoKey };
  /** Public halves of every key, for `/.well-known/jwks.json`. */
  readonly publicJwks: { readonly keys: readonly JWK[] };
  verificationKey(kid: string): CryptoKey | undefined;
}

const ALG = 'ES256';

/** From configuration, or (local runs: ROGER_SIGNING_KEYS unset) one key generated now. */
export async function loadKeyRing(configured: SigningKeys | undefined): Promise<KeyRing> {
  let privateJwks: JWK[];
  if (configured) {
    privateJwks = configured.keys.map((key) => ({ ...key }));
  } else {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    privateJwks = [{ ...jwk, kid: `local-${(await calculateJwkThumbprint(jwk)).slice(0, 16)}` }];
  }

  const verification = new Map<string, CryptoKey>();
  const publicJwks: JWK[] = [];
  for (const jwk of privateJwks) {
    const { d: _private, ...publicJwk } = jwk;
    const published = { ...publicJwk, alg: ALG, use: 'sig' };
    verification.set(jwk.kid!, (await importJWK(published, ALG)) as CryptoKey);
    publicJwks.push(published);
  }
  const first = privateJwks[0]!;
  return {
    signing: { kid: first.kid!, key: (await importJWK({ ...first, alg: ALG }, ALG)) as CryptoKey },
    publicJwks: { keys: publicJwks },
    verificationKey: (kid) => verification.get(kid),
  };
}
