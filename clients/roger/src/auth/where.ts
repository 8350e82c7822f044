import { resolveApiUrl, type Where } from '@roger-cloud/client-kit/discovery';

/**
 * Which regional API `roger login` signs in to (docs/clients.md#regions): `--api`, or
 * `--discovery` with `--tenant`; the environment (ROGER_API, ROGER_DISCOVERY, ROGER_TENANT)
 * fills what the flags leave out, so a company can set it once for everyone; and with nothing
 * given, the API of the previous sign-in on this computer. The flags are a Where of their own
 * (the kit's discovery.ts), before the environment fills it.
 */
export function whereFrom(flags: Where, env: NodeJS.ProcessEnv = process.env): Where {
  const discovery = flags.discovery ?? env.ROGER_DISCOVERY;
  const tenant = flags.tenant ?? env.ROGER_TENANT;
  // A flag beats the environment: `--discovery` on the command line wins over ROGER_API.
  const api = flags.api ?? (flags.discovery ? undefined : env.ROGER_API);
  const region = flags.region;
  return { ...(api ? { api } : {}), ...(discovery ? { discovery } : {}), ...(tenant ? { tenant } : {}), ...(region ? { region } : {}) };
}

export async function apiUrlFor(flags: Where, previousApiUrl?: string): Promise<string> {
  const where = whereFrom(flags);
  if (!where.api && !where.discovery && previousApiUrl) return previousApiUrl;
  return resolveApiUrl(where);
}
