/**
 * The simulated Entra tenants and their users. Each user has an object id (`oid`), a home tenant
 * (`tid`), a OneDrive, a consent grant to our app, and the app roles and group ids their tenant
 * assigns them (claims of the id_token).
 */
import { randomUUID } from 'node:crypto';
import { Drive } from './drive-store.js';

export interface Tenant {
  /** The directory (tenant) id, a GUID: the `tid` claim. */
  readonly id: string;
  readonly displayName: string;
  /** Set by the admin-consent flow. */
  adminConsented: boolean;
}

export interface AccountDetails {
  /** The home tenant's id; default: the directory's default tenant. */
  readonly tenantId?: string;
  /** The `name` claim; default: the part of the UPN before '@'. */
  readonly displayName?: string;
  /** The `email` claim; default: the UPN. */
  readonly email?: string;
  /** App roles assigned to the user in the tenant's enterprise application (the `roles` claim). */
  readonly roles?: readonly string[];
  /** Security group object ids (the `groups` claim). */
  readonly groups?: readonly string[];
  /** A tenant administrator: may grant admin consent; their id_tokens carry `wids` with Global Administrator. */
  readonly admin?: boolean;
  /** A guest (B2B) of the tenant: `acct` is 1 in their id_tokens (0 for members). */
  readonly guest?: boolean;
}

export interface Account {
  /** The object id: the `oid` claim and Graph's user id. */
  readonly id: string;
  readonly upn: string;
  readonly tenantId: string;
  displayName: string;
  email: string;
  roles: readonly string[];
  groups: readonly string[];
  admin: boolean;
  guest: boolean;
  readonly drive: Drive;
  consented: boolean;
  /** Bumped when consent is withdrawn: tokens minted under an older grant stop working for good. */
  grantGeneration: number;
}

export class Directory {
  defaultUpn = 'user@contoso.example';
  readonly defaultTenantId: string;
  readonly #tenants = new Map<string, Tenant>();
  readonly #accounts = new Map<string, Account>();

  constructor(
    private readonly now: () => number,
    defaultTenant: { id?: string; displayName?: string } = {},
  ) {
    this.defaultTenantId = this.addTenant(defaultTenant.displayName ?? 'Contoso (local)', defaultTenant.id).id;
  }

  addTenant(displayName: string, id: string = randomUUID()): Tenant {
    const key = id.toLowerCase();
    if (this.#tenants.has(key)) throw new Error(`Tenant ${id} already exists in the local Entra.`);
    const tenant: Tenant = { id: key, displayName, adminConsented: false };
    this.#tenants.set(key, tenant);
    return tenant;
  }

  tenant(id: string): Tenant | undefined {
    return this.#tenants.get(id.toLowerCase());
  }

  /** UPNs are case-insensitive in Entra. */
  find(upn: string): Account | undefined {
    return this.#accounts.get(upn.toLowerCase());
  }

  /** The account for `upn`, created (with `details`) when missing; an existing one takes the details given. */
  ensure(upn: string, details: AccountDetails = {}): Account {
    const existing = this.find(upn);
    if (existing) {
      if (details.tenantId !== undefined && details.tenantId.toLowerCase() !== existing.tenantId) {
        throw new Error(`${upn} already lives in tenant ${existing.tenantId}.`);
      }
      Object.assign(existing, definedOnly({ ...details, tenantId: undefined }));
      return existing;
    }
    const tenantId = (details.tenantId ?? this.defaultTenantId).toLowerCase();
    if (!this.#tenants.has(tenantId)) throw new Error(`No tenant ${tenantId} in the local Entra: addTenant first.`);
    const account: Account = {
      id: randomUUID(),
      upn,
      tenantId,
      displayName: details.displayName ?? upn.split('@')[0] ?? upn,
      email: details.email ?? upn,
      roles: details.roles ?? [],
      groups: details.groups ?? [],
      admin: details.admin ?? false,
      guest: details.guest ?? false,
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

function definedOnly(details: AccountDetails): Partial<Account> {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined)) as Partial<Account>;
}
