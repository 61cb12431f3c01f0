/**
 * One content kind of a portfolio, in its order, with reordering that works three ways: drag and
 * drop with a mouse, "Move up"/"Move down" buttons, and the arrow keys on a row's handle. Each
 * move is one `PUT /api/portfolios/:id/<kind>/order {ids}` (the API's whole new order) and is
 * announced in a live region ("Second moved to position 1 of 2"); the focus stays on the moved row.
 */
import { useCreatePath } from 'ra-core';
import { useCallback, useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import { Link } from 'react-router';
import { useI18n } from '../../i18n';
import { apiCall, fetchAll, type ChildKind } from '../dataProvider';
import { KINDS, rowTitle } from './kinds';

interface Row {
  id: string;
  position: number;
  [field: string]: unknown;
}

/** `ids` with the one at `from` moved to `to`. */
export function moved<T>(ids: readonly T[], from: number, to: number): T[] {
  const next = [...ids];
  const [item] = next.splice(from, 1);
  if (item === undefined) return next;
  next.splice(Math.max(0, Math.min(to, next.length)), 0, item);
  return next;
}

export function ChildList({ kind, portfolio }: { kind: ChildKind; portfolio: { id: string } }) {
  const { t } = useI18n();
  const createPath = useCreatePath();
  const def = KINDS[kind];
  const [rows, setRows] = useState<Row[] | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [dragging, setDragging] = useState<number | null>(null);
  const focusAfter = useRef<{ id: string; control: string } | null>(null);
  const listPath = `/api/portfolios/${encodeURIComponent(portfolio.id)}/${kind}`;

  const load = useCallback(async () => {
    try {
      setRows(await fetchAll<Row>(listPath));
    } catch {
      setProblem(t('admin.load_failed'));
    }
  }, [listPath, t]);
  useEffect(() => {
    void load();
  }, [load]);

  // After a move, the keyboard stays where it was: on the same control of the row that moved.
  useEffect(() => {
    const target = focusAfter.current;
    if (!target) return;
    focusAfter.current = null;
    const control = document.getElementById(`${kind}-${target.id}-${target.control}`) as HTMLButtonElement | null;
    // A button that became disabled (the row is now first or last) cannot hold the focus: the handle does.
    const el = control && !control.disabled ? control : document.getElementById(`${kind}-${target.id}-handle`);
    el?.focus();
  }, [rows, kind]);

  const move = async (from: number, to: number, control: string) => {
    if (!rows || to < 0 || to >= rows.length || from === to) return;
    const next = moved(rows, from, to);
    const row = rows[from] as Row;
    setProblem(null);
    setRows(next); // shown at once; the API's answer is the truth
    focusAfter.current = { id: row.id, control };
    try {
      const page = await apiCall<{ items: Row[] }>('PUT', `${listPath}/order`, { ids: next.map((r) => r.id) });
      setRows(page.items);
      setAnnouncement(t('admin.order.moved', { title: rowTitle(def, row), position: to + 1, count: next.length }));
    } catch (e) {
      setProblem((e as Error).message || t('error.UNKNOWN'));
      await load();
    }
  };

  const onHandleKey = (event: KeyboardEvent, index: number) => {
    if (event.key === 'ArrowUp') {
      event.preventDefault();
      void move(index, index - 1, 'handle');
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      void move(index, index + 1, 'handle');
    }
  };

  const onDrop = (event: DragEvent, index: number) => {
    event.preventDefault();
    if (dragging !== null) void move(dragging, index, 'handle');
    setDragging(null);
  };

  const headingId = `${kind}-title`;
  const label = t(`admin.kind.${kind}`);
  return (
    <section aria-labelledby={headingId} className="admin-card">
      <div className="admin-screen-head">
        <h2 id={headingId}>{label}</h2>
        <Link
          className="button-link"
          to={`${createPath({ resource: kind, type: 'create' })}?portfolioId=${encodeURIComponent(portfolio.id)}`}
        >
          {t(`admin.kind_add.${kind}`)}
        </Link>
      </div>
      <p className="visually-hidden" aria-live="polite" role="status">
        {announcement}
      </p>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      {rows === null ? (
        <p>{t('admin.loading')}</p>
      ) : rows.length === 0 ? (
        <p>{t('admin.order.empty')}</p>
      ) : (
        <>
          <p id={`${kind}-order-help`} className="hint">
            {t('admin.order.help')}
          </p>
          <ol className="order-list" aria-labelledby={headingId}>
            {rows.map((row, index) => {
              const title = rowTitle(def, row);
              return (
                <li
                  key={row.id}
                  className={dragging === index ? 'order-item dragging' : 'order-item'}
                  draggable
                  onDragStart={(e) => {
                    setDragging(index);
                    e.dataTransfer.effectAllowed = 'move';
                    e.dataTransfer.setData('text/plain', row.id);
                  }}
                  onDragOver={(e) => e.preventDefault()}
                  onDrop={(e) => onDrop(e, index)}
                  onDragEnd={() => setDragging(null)}
                >
                  <button
                    type="button"
                    id={`${kind}-${row.id}-handle`}
                    className="drag-handle"
                    aria-label={t('admin.order.handle', { title })}
                    aria-describedby={`${kind}-order-help`}
                    onKeyDown={(e) => onHandleKey(e, index)}
                  >
                    <span aria-hidden="true">⠿</span>
                  </button>
                  <span className="order-title">
                    {title}
                    {row['published'] === false ? <span className="tag"> {t('admin.state.draft')}</span> : null}
                  </span>
                  <span className="order-actions">
                    <button
                      type="button"
                      id={`${kind}-${row.id}-up`}
                      onClick={() => void move(index, index - 1, 'up')}
                      disabled={index === 0}
                      aria-label={t('admin.order.up', { title })}
                    >
                      ↑
                    </button>
                    <button
                      type="button"
                      id={`${kind}-${row.id}-down`}
                      onClick={() => void move(index, index + 1, 'down')}
                      disabled={index === rows.length - 1}
                      aria-label={t('admin.order.down', { title })}
                    >
                      ↓
                    </button>
                    <Link
                      to={createPath({ resource: kind, type: 'edit', id: row.id })}
                      aria-label={t('admin.action.edit_named', { title })}
                    >
                      {t('admin.action.edit')}
                    </Link>
                  </span>
                </li>
              );
            })}
          </ol>
        </>
      )}
    </section>
  );
}
