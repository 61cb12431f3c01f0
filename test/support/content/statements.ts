/**
 * The statements a piece of code sends to the database, for tests that prove how much work a read
 * does. Only statements sent from fn's own async chain count: the app's background loops (upload
 * worker, key ring, revocation cache) share the database and may run meanwhile.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, QueryOptions } from '../../../src/platform/db/index.js';

export async function statementsDuring(
  db: Db,
  fn: () => Promise<unknown>,
): Promise<{ sql: string; options?: QueryOptions }[]> {
  const original = Object.getOwnPropertyDescriptor(db, 'query')!;
  const send = original.value as Db['query'];
  const mine = new AsyncLocalStorage<true>();
  const sent: { sql: string; options?: QueryOptions }[] = [];
  Object.defineProperty(db, 'query', {
    ...original,
    value: (sql: string, params?: readonly unknown[], options?: QueryOptions) => {
      if (mine.getStore()) sent.push(options ? { sql, options } : { sql });
      return send(sql, params, options);
    },
  });
  try {
    await mine.run(true, fn);
  } finally {
    Object.defineProperty(db, 'query', original);
  }
  return sent;
}
