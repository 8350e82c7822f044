import type { LocalMicrosoft } from '@roger-cloud/local-microsoft';

/**
 * The simulated Entra tenants and accounts every local run starts with (`npm start` prints them),
 * so sign-in work has an admin and a plain member in two organisations without setup. Tenant and
 * group ids are fixed, so settings that name them (allowed tenants, a group) hold across runs;
 * account object ids (`oid`) are made at each start. Contoso is the stand-in's default tenant: accounts made on the fly (every OneDrive test's
 * login_hint) join it. docs/testing.md lists what the stand-ins simulate.
 */
export interface SeedTenant {
  readonly id: string;
  readonly displayName: string;
  readonly groups: readonly { readonly id: string; readonly displayName: string }[];
  readonly accounts: readonly SeedAccount[];
}

export interface SeedAccount {
  readonly upn: string;
  readonly displayName: string;
  /** App roles of our enterprise application in that tenant (`roles` claim). */
  readonly roles: readonly string[];
  /** Group object ids (`groups` claim), from the tenant's `groups`. */
  readonly groups: readonly string[];
  /** A tenant administrator: may grant admin consent. */
  readonly admin: boolean;
}

const CONTOSO_PRINT_USERS = '0b6d1c9e-4f7a-4a61-8d0e-2c5b7e9f1a30';
const FABRIKAM_PRINT_USERS = '5e2a8f14-9c3d-4b07-a6e1-7d4c0b9a2f58';

const contoso: SeedTenant = {
  id: '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a',
  displayName: 'Contoso',
  groups: [{ id: CONTOSO_PRINT_USERS, displayName: 'Print users' }],
  accounts: [
    { upn: 'admin@contoso.example', displayName: 'Contoso Admin', roles: ['Roger.Admin'], groups: [], admin: true },
    { upn: 'megan@contoso.example', displayName: 'Megan', roles: [], groups: [CONTOSO_PRINT_USERS], admin: false },
  ],
};

export const localEntraSeed: readonly SeedTenant[] = [
  contoso,
  {
    id: '8c1e4b7d-2a5f-4d3c-b6e9-0f7a3d5c8b21',
    displayName: 'Fabrikam',
    groups: [{ id: FABRIKAM_PRINT_USERS, displayName: 'Print users' }],
    accounts: [
      { upn: 'admin@fabrikam.example', displayName: 'Fabrikam Admin', roles: ['Roger.Admin'], groups: [], admin: true },
      { upn: 'lee@fabrikam.example', displayName: 'Lee', roles: [], groups: [FABRIKAM_PRINT_USERS], admin: false },
    ],
  },
];

/** The first tenant, made by the stand-in itself as its default (pass as `defaultTenant`). */
export const seedDefaultTenant = { id: contoso.id, displayName: contoso.displayName };

/** Adds the other tenants and every seeded account to a stand-in started with `defaultTenant: seedDefaultTenant`. */
export function seedLocalEntra(microsoft: LocalMicrosoft, seed: readonly SeedTenant[] = localEntraSeed): void {
  for (const tenant of seed) {
    if (tenant.id !== microsoft.defaultTenantId) microsoft.addTenant(tenant.displayName, tenant.id);
    for (const { upn, displayName, roles, groups, admin } of tenant.accounts) {
      microsoft.addAccount(upn, { tenantId: tenant.id, displayName, email: upn, roles, groups, admin });
    }
  }
}

/** Banner lines: one per tenant, with its id and accounts. */
export function describeLocalEntra(seed: readonly SeedTenant[] = localEntraSeed): string[] {
  return seed.map(
    (tenant) =>
      `${tenant.displayName} ${tenant.id}: ` +
      tenant.accounts
        .map(
          (account) =>
            `${account.upn}` +
            (account.roles.length ? ` (${account.roles.join(', ')})` : '') +
            (account.groups.length
              ? ` (in ${account.groups.map((id) => tenant.groups.find((group) => group.id === id)?.displayName ?? id).join(', ')})`
              : ''),
        )
        .join(', '),
  );
}
