/**
 * The admin's screens, in navigation order. A screen file exports an `AdminResource` (types.ts)
 * and gets one line here; its API URLs go in dataProvider.ts ENDPOINTS (or `registerEndpoint`
 * from its own file). Users see only the screens their permissions open (authProvider.ts); the
 * API refuses the rest anyway.
 */
import { contentResources } from './content/resources';
import { alertsResource } from './security/Alerts';
import { auditResource } from './security/AuditLog';
import { backupsResource } from './security/Backups';
import { blocksResource } from './security/Blocks';
import { quarantineResource } from './security/Quarantine';
import type { AdminResource } from './types';
import { invitationsResource } from './users/Invitations';
import { usersResource } from './users/UserList';

export type { AdminResource } from './types';

export const RESOURCES: readonly AdminResource[] = [
  ...contentResources,
  // Users and security screens (web/console/src/admin/{users,security}/) go here, one line each.
  usersResource,
  invitationsResource,
  auditResource,
  blocksResource,
  quarantineResource,
  backupsResource,
  alertsResource,
];

export function resourcePermissions(name: string): readonly string[] {
  return RESOURCES.find((r) => r.name === name)?.permissions ?? [];
}
