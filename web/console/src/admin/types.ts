/** What a screen file gives the registry (resources.tsx). */
import type { ComponentType } from 'react';

export interface AdminResource {
  /** ra-core resource name: the URL segment (/admin/<name>) and the data provider's key (ENDPOINTS). */
  name: string;
  /** i18n key of its name in the navigation (web/console/src/i18n/{en,es}.ts). */
  labelKey: string;
  /** The user needs at least one of these permissions (src/users/policy.ts PERMISSIONS) to see it. */
  permissions: readonly string[];
  list?: ComponentType;
  create?: ComponentType;
  edit?: ComponentType;
  show?: ComponentType;
  /** Listed in the navigation (default: when it has a list). */
  nav?: boolean;
}
