export const ROLES = ['platform-admin', 'onboarding', 'tenant-admin', 'tenant-user'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified token. Tenant roles always carry their tenant's id. */
export type Principal =
  | { readonly kind: 'platform'; readonly subject: string; readonly role: 'platform-admin' | 'onboarding' }
  | { readonly kind: 'tenant'; readonly subject: string; readonly role: 'tenant-admin' | 'tenant-user'; readonly tenantId: string };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
