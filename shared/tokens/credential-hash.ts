/**
 * PINs and passwords at rest: argon2id with the OWASP parameters (m=19456 KiB, t=2, p=1), which
 * are @node-rs/argon2's defaults; they are spelled out so a library change cannot weaken them.
 * The native module is loaded on first use so routes without credentials do not pay for it.
 */
const PARAMETERS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

type Argon2 = typeof import('@node-rs/argon2');
let argon2: Promise<Argon2> | undefined;
const load = () => (argon2 ??= import('@node-rs/argon2'));

export async function hashCredential(plain: string): Promise<string> {
  return (await load()).hash(plain, PARAMETERS);
}

export async function verifyCredential(hash: string, plain: string): Promise<boolean> {
  try {
    return await (await load()).verify(hash, plain);
  } catch {
    return false; // a malformed stored hash never verifies
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * One argon2 verify against a throwaway hash: unknown users cost the same time as known ones,
 * so response time does not reveal whether an account exists (docs/security.md#lockout).
 */
export async function spendVerifyTime(plain: string): Promise<void> {
  dummyHash ??= hashCredential('roger-dummy-credential');
  await verifyCredential(await dummyHash, plain);
}
