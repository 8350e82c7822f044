import { isIP } from 'node:net';

/**
 * The caller's address as the platform's own proxies saw it, or undefined when there is none
 * to trust. Used for login history (when the tenant policy keeps it) and as the rate-limit key
 * of anonymous callers.
 *
 * X-Forwarded-For is a list to which each proxy appends the address it was reached from; the
 * client may start it with anything it likes. Only the entries the platform's proxies added
 * can be believed: with `trustedHops` of them in front of the app (TRUSTED_PROXY_HOPS: App
 * Service's front end is 1, Front Door before it makes 2), the client is the `trustedHops`-th
 * entry from the right. A list shorter than that did not come through all of them.
 */
export function clientIp(headers: Headers, trustedHops: number): string | undefined {
  const entries = headers.get('x-forwarded-for')?.split(',') ?? [];
  if (trustedHops < 1 || entries.length < trustedHops) return undefined;
  return addressOf(entries[entries.length - trustedHops]!.trim());
}

/**
 * An entry as proxies write it — `203.0.113.7`, `203.0.113.7:50123`, `2001:db8::7` or
 * `[2001:db8::7]:50123` (App Service adds the port) — to the bare address in one spelling per
 * address (IPv6 compressed and lower-case, IPv4-mapped IPv6 as IPv4), so that a rate limit
 * keyed by it cannot be sidestepped by writing the same address another way.
 */
function addressOf(entry: string): string | undefined {
  const address = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(entry)?.[1] ?? /^([0-9.]+):\d{1,5}$/.exec(entry)?.[1] ?? entry;
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6 || address.includes('%')) return undefined; // a zone id is only meaningful on the proxy's own host
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
