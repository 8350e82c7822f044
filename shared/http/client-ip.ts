/**
 * The caller's address as the platform reports it: Azure's front ends put the client first in
 * X-Forwarded-For. Only used where the tenant policy asks to keep it (login history).
 */
export function clientIp(headers: Headers): string | undefined {
  const first = headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  return first && /^[0-9a-fA-F:.[\]]{2,64}$/.test(first) ? first : undefined;
}
