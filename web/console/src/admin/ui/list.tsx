/**
 * The list of a resource on ra-core's list controller: an accessible table (caption, column
 * headers, a row header) and "Previous"/"Next" pagination (the API pages by cursor: no total).
 */
import { useListContext, type RaRecord } from 'ra-core';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';

export interface Column<T extends RaRecord> {
  key: string;
  label: string;
  render: (record: T) => ReactNode;
}

export function ListTable<T extends RaRecord>({
  caption,
  columns,
  empty,
}: {
  caption: string;
  columns: readonly Column<T>[];
  empty: string;
}) {
  const { t } = useI18n();
  const { data, isPending, error } = useListContext<T>();
  if (isPending) return <p role="status">{t('admin.loading')}</p>;
  if (error)
    return (
      <p className="notice notice-error" role="alert">
        {t('admin.load_failed')}
      </p>
    );
  if (!data || data.length === 0) return <p>{empty}</p>;
  return (
    <>
      <div className="table-wrap">
        <table className="admin-table">
          <caption>{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.key} scope="col">
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.map((record) => (
              <tr key={String(record.id)}>
                {columns.map((c, i) =>
                  i === 0 ? (
                    <th key={c.key} scope="row">
                      {c.render(record)}
                    </th>
                  ) : (
                    <td key={c.key}>{c.render(record)}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pagination />
    </>
  );
}

export function Pagination() {
  const { t } = useI18n();
  const { page, setPage, hasNextPage, hasPreviousPage } = useListContext();
  if (!hasNextPage && !hasPreviousPage) return null;
  return (
    <nav className="pagination" aria-label={t('admin.pagination.label')}>
      <button type="button" onClick={() => setPage(page - 1)} disabled={!hasPreviousPage}>
        {t('admin.pagination.previous')}
      </button>
      <span aria-live="polite">{t('admin.pagination.page', { page })}</span>
      <button type="button" onClick={() => setPage(page + 1)} disabled={!hasNextPage}>
        {t('admin.pagination.next')}
      </button>
    </nav>
  );
}
