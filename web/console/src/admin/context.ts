/** The screens the signed-in user may open (AdminApp fills it; the layout and home read it). */
import { createContext, useContext } from 'react';
import type { AdminResource } from './types';

export const AdminResourcesContext = createContext<readonly AdminResource[]>([]);

export function useAdminResources(): readonly AdminResource[] {
  return useContext(AdminResourcesContext);
}
