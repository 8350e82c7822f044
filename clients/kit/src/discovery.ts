import { apiRequest } from './http.js';

/**
 * Where a client talks to (docs/clients.md#regions): the regional API found through discovery
 * (`GET /regions`, `GET /tenants/{slug}/region`), or an API URL given outright. A client picks
 * its region once, then talks only to it.
 */
export interface Region {
  readonly id: string;
  readonly name: string;
  readonly apiUrl: string;
  readonly amqpUrl: string;
  readonly amqpWebSocketUrl?: string;
}

export interface Where {
  /** The regional API URL itself: no discovery. */
  readonly api?: string;
  /** The discovery endpoint (the global hostname): with `tenant` or `region`. */
  readonly discovery?: string;
  /** The tenant's slug: its home region, from discovery. */
  readonly tenant?: string;
  /** A region id, when the tenant is not known yet (a printer before enrollment). */
  readonly region?: string;
}

/** The regional API URL for `where`, without a trailing slash. */
export async function resolveApiUrl(where: Where): Promise<string> {
  if (where.api) return trimSlash(checkedUrl(where.api, '--api'));
  if (!where.discovery) throw new Error('say where Roger is: --api <url>, or --discovery <url> with --tenant or --region');
  const discovery = checkedUrl(where.discovery, '--discovery');
  let region: Region;
  if (where.tenant) {
    region = await apiRequest<Region>(discovery, `/tenants/${encodeURIComponent(where.tenant)}/region`);
  } else if (where.region) {
    region = await apiRequest<Region>(discovery, `/regions/${encodeURIComponent(where.region)}`);
  } else {
    const { regions } = await apiRequest<{ regions: Region[] }>(discovery, '/regions');
    if (regions.length !== 1) throw new Error(`name your tenant (--tenant) or a region (--region): ${regions.map((r) => r.id).join(', ')}`);
    region = regions[0]!;
  }
  return trimSlash(checkedUrl(region.apiUrl, 'the region'));
}

/** HTTPS, except plain HTTP to this machine (a local run). */
export function checkedUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what}: not a URL: ${value}`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url.href;
  throw new Error(`${what}: use https (plain http only to this machine): ${value}`);
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
