/** The directory's users: each has an object id, a OneDrive, and a consent grant to our app. */
import { randomUUID } from 'node:crypto';
import { Drive } from './drive-store.js';

export interface Account {
  readonly id: string;
  readonly upn: string;
  readonly displayName: string;
  readonly drive: Drive;
  consented: boolean;
  /** Bumped when consent is withdrawn: tokens minted under an older grant stop working for good. */
  grantGeneration: number;
}

export class Directory {
  defaultUpn = 'user@contoso.example';
  readonly #accounts = new Map<string, Account>();

  constructor(private readonly now: () => number) {}

  /** UPNs are case-insensitive in Entra. */
  find(upn: string): Account | undefined {
    return this.#accounts.get(upn.toLowerCase());
  }

  ensure(upn: string): Account {
    const existing = this.find(upn);
    if (existing) return existing;
    const account: Account = {
      id: randomUUID(),
      upn,
      displayName: upn.split('@')[0] ?? upn,
      drive: new Drive(this.now()),
      consented: true,
      grantGeneration: 0,
    };
    this.#accounts.set(upn.toLowerCase(), account);
    return account;
  }

  revokeConsent(upn: string): void {
    const account = this.ensure(upn);
    account.consented = false;
    account.grantGeneration += 1;
  }

  restoreConsent(upn: string): void {
    this.ensure(upn).consented = true;
  }
}
