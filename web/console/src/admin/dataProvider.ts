/**
 * ra-core's data provider for this API: every call goes through `api()` (same origin, cookies,
 * CSRF on writes), so the admin never holds a token. Each resource names its URLs in ENDPOINTS
 * (a screen's own file may add one with `registerEndpoint`).
 *
 * - Lists are keyset-paginated (`limit`, `cursor` → `{items, nextCursor}`): ra's page numbers map
 *   to cursors remembered per list; a page whose cursor is not known yet is reached by walking
 *   from the first page. The answer carries `pageInfo` (no total: the API gives none).
 * - Problems (problem+json) become ra `HttpError`s whose body keeps the problem and has `errors`
 *   keyed by field (`body/translations/es/title` → `{translations: {es: {title}}}`): ra-core's
 *   forms show each message under the input it names; anything else goes to `root.serverError`.
 */
import { HttpError, type DataProvider, type GetListResult, type Identifier, type RaRecord } from 'ra-core';
import { api, type Problem } from '../api';

export interface Endpoint {
  /** The list's path (no query), from the list's filter (e.g. the parent portfolio). */
  list: (filter: Record<string, unknown>) => string;
  /** Extra query parameters of a list from its filter (the API's own filters). */
  listQuery?: (filter: Record<string, unknown>) => Record<string, string>;
  one: (id: Identifier) => string;
  /** Where a create posts; defaults to the list path for the new record's data. */
  create?: (data: Record<string, unknown>) => string;
  /** Fields the API sets itself: never sent in a create or a change. */
  readOnly?: readonly string[];
  /** Largest `limit` the list takes (the API caps it). */
  maxLimit?: number;
}

const SERVER_FIELDS = ['id', 'createdAt', 'updatedAt'];
const CHILD_READ_ONLY = [...SERVER_FIELDS, 'portfolioId', 'position'];

/** An id from a filter or a record, as text for a URL (anything else: empty, which the API answers 400/404). */
export function idText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function childEndpoint(kind: string): Endpoint {
  return {
    list: (filter) => `/api/portfolios/${encodeURIComponent(idText(filter['portfolioId']))}/${kind}`,
    one: (id) => `/api/${kind}/${encodeURIComponent(String(id))}`,
    create: (data) => `/api/portfolios/${encodeURIComponent(idText(data['portfolioId']))}/${kind}`,
    readOnly: CHILD_READ_ONLY,
  };
}

/** The content kinds a portfolio holds (src/content/schema.ts CHILD_RESOURCES). */
export const CHILD_KINDS = ['projects', 'sections', 'experiences', 'skills', 'links'] as const;
export type ChildKind = (typeof CHILD_KINDS)[number];

export const ENDPOINTS: Record<string, Endpoint> = {
  portfolios: {
    list: () => '/api/portfolios',
    one: (id) => `/api/portfolios/${encodeURIComponent(String(id))}`,
    readOnly: [...SERVER_FIELDS, 'ownerId'],
  },
  users: {
    list: () => '/api/admin/users',
    one: (id) => `/api/admin/users/${encodeURIComponent(String(id))}`,
    readOnly: [...SERVER_FIELDS],
  },
  ...Object.fromEntries(CHILD_KINDS.map((k) => [k, childEndpoint(k)])),
};

/** Adds (or replaces) a resource's URLs: for screens in their own files (users, security). */
export function registerEndpoint(resource: string, endpoint: Endpoint): void {
  ENDPOINTS[resource] = endpoint;
}

function endpointOf(resource: string): Endpoint {
  const e = ENDPOINTS[resource];
  if (!e) throw new HttpError(`No endpoint for ${resource}`, 0, { code: 'NO_ENDPOINT' });
  return e;
}

/** `body/translations/es/title` or `/title` → ['translations', 'es', 'title']. */
export function fieldPath(path: string): string[] {
  return path
    .replace(/^(body|querystring|params)(?=\/|$)/, '')
    .split('/')
    .filter((s) => s !== '');
}

/** Codes that are about one field although the API sends no `errors` for them. */
const FIELD_OF_CODE: Record<string, string> = {
  SLUG_TAKEN: 'slug',
  SLUG_RESERVED: 'slug',
  LANGUAGE_NOT_ENABLED: 'defaultLanguage',
};

/** A problem as ra's HttpError; `body.errors` nested by field for the form, `body.problem` kept. */
export function toHttpError(problem: Problem): HttpError {
  const errors: Record<string, unknown> = {};
  const put = (segments: string[], message: string) => {
    if (segments.length === 0) return;
    let node = errors;
    segments.slice(0, -1).forEach((s) => {
      if (typeof node[s] !== 'object' || node[s] === null) node[s] = {};
      node = node[s] as Record<string, unknown>;
    });
    const last = segments[segments.length - 1] as string;
    if (node[last] === undefined) node[last] = message;
  };
  for (const e of problem.errors) put(fieldPath(e.path), e.message);
  const field = FIELD_OF_CODE[problem.code];
  if (field && problem.errors.length === 0) put([field], problem.detail || problem.code);
  const message = problem.detail || problem.code;
  const hasFieldErrors = Object.keys(errors).length > 0;
  return new HttpError(message, problem.status, {
    problem,
    code: problem.code,
    ...(hasFieldErrors ? { errors: { ...errors, root: { serverError: message } } } : {}),
  });
}

async function call<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  const res = await api<T>(method, path, body);
  if (!res.ok) throw toHttpError(res.problem);
  return res.data;
}

/** The body of a write: only what the API accepts (no server-set fields). */
function writable(resource: string, data: Record<string, unknown>): Record<string, unknown> {
  const readOnly = new Set(endpointOf(resource).readOnly ?? SERVER_FIELDS);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!readOnly.has(k) && v !== undefined) out[k] = v;
  if ('translations' in out) out['translations'] = cleanTranslations(out['translations']);
  return out;
}

/** Empty texts and empty languages left out: a blank translation means "not translated yet". */
export function cleanTranslations(value: unknown): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [lang, fields] of Object.entries(value as Record<string, unknown>)) {
    if (typeof fields !== 'object' || fields === null) continue;
    const texts: Record<string, string> = {};
    for (const [name, text] of Object.entries(fields as Record<string, unknown>)) {
      if (typeof text === 'string' && text.trim() !== '') texts[name] = text;
    }
    if (Object.keys(texts).length > 0) out[lang] = texts;
  }
  return out;
}

/** Only what changed (a PATCH needs at least one field, and the API replaces translations whole). */
function changed(next: Record<string, unknown>, previous: Record<string, unknown> | undefined) {
  if (!previous) return next;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    const before = k === 'translations' ? cleanTranslations(previous[k]) : previous[k];
    if (JSON.stringify(v) !== JSON.stringify(before)) out[k] = v;
  }
  return out;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursors of the pages already seen, per list (path + query + page size). */
const cursors = new Map<string, Map<number, string | null>>();

function listUrl(path: string, query: Record<string, string>, limit: number, cursor: string | null): string {
  const params = new URLSearchParams({ ...query, limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  return `${path}?${params.toString()}`;
}

async function getPage<T>(resource: string, page: number, perPage: number, filter: Record<string, unknown>) {
  const endpoint = endpointOf(resource);
  const path = endpoint.list(filter);
  const query = endpoint.listQuery?.(filter) ?? {};
  const limit = Math.min(perPage, endpoint.maxLimit ?? 100);
  const key = `${path}?${new URLSearchParams(query).toString()}#${limit}`;
  let known = cursors.get(key);
  if (!known) {
    known = new Map([[1, null]]);
    cursors.set(key, known);
  }
  if (page === 1) known.set(1, null);
  // Walk forward from the last page whose cursor we know.
  let at = Math.max(...[...known.keys()].filter((p) => p <= page));
  let result: Page<T> | null = null;
  while (at <= page) {
    const cursor = known.get(at) ?? null;
    if (at > 1 && cursor === null) return { items: [] as T[], nextCursor: null };
    result = await call<Page<T>>('GET', listUrl(path, query, limit, cursor));
    known.set(at + 1, result.nextCursor);
    at += 1;
  }
  return result ?? { items: [] as T[], nextCursor: null };
}

/** Every item of a list (the API's largest pages), e.g. all of a portfolio's projects to reorder them. */
export async function fetchAll<T>(path: string, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await call<Page<T>>('GET', listUrl(path, {}, 100, cursor));
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < max);
  return out;
}

export { call as apiCall };

export const dataProvider: DataProvider = {
  async getList(resource, params): Promise<GetListResult> {
    const page = params.pagination?.page ?? 1;
    const perPage = params.pagination?.perPage ?? 20;
    const result = await getPage<RaRecord>(resource, page, perPage, (params.filter ?? {}) as Record<string, unknown>);
    return { data: result.items, pageInfo: { hasNextPage: result.nextCursor != null, hasPreviousPage: page > 1 } };
  },
  async getOne(resource, params) {
    return { data: await call('GET', endpointOf(resource).one(params.id)) };
  },
  async getMany(resource, params) {
    const data = await Promise.all(params.ids.map((id) => call<never>('GET', endpointOf(resource).one(id))));
    return { data };
  },
  async getManyReference(resource, params) {
    const filter: Record<string, unknown> = {
      ...(params.filter as Record<string, unknown>),
      [params.target]: params.id,
    };
    const page = params.pagination?.page ?? 1;
    const result = await getPage<never>(resource, page, params.pagination?.perPage ?? 20, filter);
    return { data: result.items, pageInfo: { hasNextPage: result.nextCursor != null, hasPreviousPage: page > 1 } };
  },
  async create(resource, params) {
    const endpoint = endpointOf(resource);
    const data = params.data as Record<string, unknown>;
    const path = endpoint.create ? endpoint.create(data) : endpoint.list(data);
    return { data: await call('POST', path, writable(resource, data)) };
  },
  async update(resource, params) {
    const body = changed(
      writable(resource, params.data as Record<string, unknown>),
      params.previousData as Record<string, unknown>,
    );
    // Nothing changed: the API refuses an empty PATCH, and there is nothing to save.
    if (Object.keys(body).length === 0) return { data: params.previousData as never };
    return { data: await call<never>('PATCH', endpointOf(resource).one(params.id as Identifier), body) };
  },
  async updateMany(resource, params) {
    const data: Record<string, unknown> = params.data;
    for (const id of params.ids) await call('PATCH', endpointOf(resource).one(id), writable(resource, data));
    return { data: params.ids };
  },
  async delete(resource, params) {
    await call('DELETE', endpointOf(resource).one(params.id));
    return { data: params.previousData as never };
  },
  async deleteMany(resource, params) {
    for (const id of params.ids as Identifier[]) await call('DELETE', endpointOf(resource).one(id));
    return { data: params.ids };
  },
};
