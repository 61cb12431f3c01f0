/**
 * Rate-limit blocks (permission security:manage): the clients blocked after repeated violations
 * (GET /api/admin/security/blocks, one list without pages) and "Lift" for each
 * (DELETE /api/admin/security/blocks/:client: every node's cache at once, the client's violation
 * count and level cleared).
 */
import { useQuery } from '@tanstack/react-query';
import { ListContextProvider, useList } from 'ra-core';
import { useI18n } from '../../i18n';
import { apiCall } from '../dataProvider';
import type { AdminResource } from '../types';
import { ListTable, type Column } from '../ui/list';
import { Screen } from '../ui/Screen';
import { OutcomeNotice, formatTime, useAction } from './shared';

interface Block {
  id: string;
  client: string;
  until: string;
  retryAfter: number;
  level: number;
  reason: string;
}

export function Blocks() {
  const { t, locale } = useI18n();
  const { busy, outcome, run } = useAction();
  const blocks = useQuery({
    queryKey: ['admin', 'blocks'],
    queryFn: () =>
      apiCall<{ items: Omit<Block, 'id'>[] }>('GET', '/api/admin/security/blocks').then((r) =>
        r.items.map((b) => ({ ...b, id: b.client })),
      ),
  });
  const list = useList<Block>({ data: blocks.data, isPending: blocks.isPending, error: blocks.error, perPage: 50 });
  const columns: Column<Block>[] = [
    { key: 'client', label: t('admin_security.col_client'), render: (b) => b.client },
    { key: 'until', label: t('admin_security.col_until'), render: (b) => formatTime(locale, b.until) },
    { key: 'level', label: t('admin_security.col_level'), render: (b) => b.level },
    { key: 'reason', label: t('admin_security.col_reason'), render: (b) => b.reason },
    {
      key: 'actions',
      label: t('admin_users.col_actions'),
      render: (b) => (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await apiCall('DELETE', `/api/admin/security/blocks/${encodeURIComponent(b.client)}`);
              await blocks.refetch();
              return t('admin_security.lifted', { client: b.client });
            })
          }
        >
          {t('admin_security.lift', { client: b.client })}
        </button>
      ),
    },
  ];
  return (
    <Screen title={t('admin_security.blocks_title')}>
      <OutcomeNotice outcome={outcome} />
      <ListContextProvider value={list}>
        <ListTable<Block>
          caption={t('admin_security.blocks_caption')}
          columns={columns}
          empty={t('admin_security.blocks_empty')}
        />
      </ListContextProvider>
    </Screen>
  );
}

export const blocksResource: AdminResource = {
  name: 'blocks',
  labelKey: 'admin_security.blocks_nav',
  permissions: ['security:manage'],
  list: Blocks,
};
