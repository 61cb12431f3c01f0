/**
 * HTTP only: multipart intake, schemas, status codes. The owner check runs before a byte of the
 * body is read (target()), so nobody can make the server store bytes for a portfolio they cannot
 * change. @fastify/multipart is registered in this encapsulated context only: other routes keep
 * refusing multipart bodies.
 */
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { canonicalLanguageTag } from '../../content/languages/tags.js';
import type { PublicTarget, PublicVersionRepository } from '../../content/public-read/repository.js';
import { PublicSlugParams, SLUG_PATTERN } from '../../content/schema.js';
import { actorOf } from '../../http/request-identity.js';
import { IdParams, Problem } from '../../http/common-schemas.js';
import { cursorAfter, keysetPage } from '../../http/cursor.js';
import { AppError } from '../../http/errors.js';
import type { Actor } from '../../users/policy.js';
import { contentErrors } from '../../content/errors.js';
import { uploadErrors } from './errors.js';
import {
  ContentQuery,
  DeleteQuery,
  Link,
  LinkQuery,
  Media,
  MediaPage,
  MediaPatch,
  ResumeQuery,
  QuarantineQuery,
  ReleaseBody,
} from './schema.js';
import { MEDIA_PARENTS, toMediaJson, type MediaParent, type StagedUpload } from './media.js';
import type { UploadService } from './service.js';
import { CATEGORIES, type Category } from './types.js';

const security = [{ bearerAuth: [] }];
const tags = ['media'];
const NoContent = Type.Null({ description: 'Deleted' });
const uploadErrorsSchema = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  413: Problem,
  415: Problem,
  422: Problem,
};

/** Room for the multipart envelope (boundaries, part headers, the category field) around the file. */
const ENVELOPE = 64 * 1024;

function mapMultipartError(err: unknown, service: UploadService): unknown {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'FST_FILES_LIMIT':
      return uploadErrors.tooManyFiles();
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_PROTO_VIOLATION':
      return uploadErrors.malformed(
        'The form has too many or forbidden fields; send "category", optionally "isDefaultResume" and "language", then "file"',
      );
    case 'FST_REQ_FILE_TOO_LARGE':
      return uploadErrors.tooLarge(
        'A file',
        Math.max(service.settings.maxImageBytes, service.settings.maxDocumentBytes),
      );
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return uploadErrors.multipartRequired();
    case 'FST_MP_PREMATURE_CLOSE':
      return uploadErrors.malformed('The request ended before the form was complete');
    default:
      break;
  }
  if (err instanceof AppError) return err;
  // busboy's own parse errors ("Malformed part header", "Unexpected end of form") are the client's.
  if (
    err instanceof Error &&
    /multipart|boundary|part|form/i.test(err.message) &&
    !(err as { statusCode?: number }).statusCode
  ) {
    return uploadErrors.malformed('The multipart body is malformed');
  }
  return err;
}

/**
 * Reads the form: `category` (and `isDefaultResume`) first, then exactly one `file`. The file is
 * streamed into staging as it arrives; nothing is held in memory.
 */
async function intake(
  request: FastifyRequest,
  service: UploadService,
  actor: Actor,
  parent: MediaParent,
  id: string,
): Promise<StagedUpload> {
  if (!request.isMultipart()) throw uploadErrors.multipartRequired();
  const target = await service.intake.target(actor, parent, id);
  const declared = Number(request.headers['content-length']);
  const largest = Math.max(service.settings.maxImageBytes, service.settings.maxDocumentBytes);
  if (Number.isFinite(declared) && declared > largest + ENVELOPE) throw uploadErrors.tooLarge('A file', largest);
  let category: Category | undefined;
  let isDefaultResume = false;
  let language: string | null = null;
  let staged: StagedUpload | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (staged) continue; // trailing fields are read (the body must be consumed) but ignored
        const value = typeof part.value === 'string' ? part.value : '';
        if (part.fieldname === 'category') {
          if (!(CATEGORIES as readonly string[]).includes(value))
            throw uploadErrors.categoryInvalid(`category must be one of ${CATEGORIES.join(', ')}`);
          category = value as Category;
        } else if (part.fieldname === 'isDefaultResume') {
          if (value !== 'true' && value !== 'false')
            throw uploadErrors.malformed('isDefaultResume must be true or false');
          isDefaultResume = value === 'true';
        } else if (part.fieldname === 'language') {
          // Checked against the enabled site languages when the row is created (intake.stage).
          const tag = value === '' ? null : canonicalLanguageTag(value);
          if (tag === undefined) throw uploadErrors.malformed('language must be a language tag such as en or pt-BR');
          language = tag;
        } else {
          throw uploadErrors.malformed(`Unknown form field "${part.fieldname.slice(0, 40)}"`);
        }
        continue;
      }
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw uploadErrors.malformed('The file goes in the field "file"');
      }
      if (staged) {
        part.file.resume();
        throw uploadErrors.tooManyFiles();
      }
      if (!category) {
        part.file.resume();
        throw uploadErrors.categoryInvalid('Send the "category" field before the file');
      }
      if (isDefaultResume && category !== 'resume') {
        part.file.resume();
        throw uploadErrors.categoryInvalid('Only a resume can be the default resume');
      }
      staged = await service.intake.stage(actor, target, {
        category,
        isDefaultResume,
        language,
        filename: part.filename,
        mimetype: part.mimetype,
        stream: part.file,
      });
    }
  } catch (err) {
    throw mapMultipartError(err, service);
  }
  if (!staged) throw uploadErrors.fileMissing();
  return staged;
}

/** Authenticated media routes: upload, read, link, delete, quarantine admin. */
export const mediaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.uploads;
  const { settings } = service;
  await app.register(multipart, {
    limits: {
      fileSize: Math.max(settings.maxImageBytes, settings.maxDocumentBytes) + 1,
      files: 1,
      fields: 5,
      parts: 7,
      fieldNameSize: 100,
      fieldSize: 1000,
      headerPairs: 20,
    },
    throwFileSizeLimit: true,
  });
  app.addHook('onRequest', app.authenticate);

  for (const parent of MEDIA_PARENTS) {
    app.post(
      `/api/${parent}s/:id/media`,
      {
        schema: {
          tags,
          security,
          summary: `Upload a file to a ${parent} (multipart/form-data: "category", optionally "isDefaultResume" and "language", then "file")`,
          description:
            'Images (jpeg, png, webp, gif, avif; categories main, thumbnail, gallery, background) up to UPLOAD_MAX_IMAGE_BYTES; PDFs (categories resume, document) up to UPLOAD_MAX_DOCUMENT_BYTES. "language" (an enabled site language) makes it shown only to reads in that language (with fallback); the default resume is one per language. The answer is 202 with the status the file reached: available, or quarantined with a reason (scan_unavailable, scan_failed, infected, unscannable).',
          consumes: ['multipart/form-data'],
          params: IdParams,
          response: { 202: Media, ...uploadErrorsSchema },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const staged = await intake(request, service, actor, parent, request.params.id);
        const row = await service.intake.ingest(staged, app.audit.contextOf(request));
        return reply.status(202).send(toMediaJson(row));
      },
    );

    app.get(
      `/api/${parent}s/:id/media`,
      {
        schema: {
          tags,
          security,
          summary: `List a ${parent}'s media, whatever their status`,
          params: IdParams,
          querystring: QuarantineQuery,
          response: { 200: MediaPage, 400: Problem, 401: Problem, 404: Problem },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 20;
        const [after] = cursorAfter(request.query.cursor, ['uuid']) ?? [];
        const rows = await service.delivery.list(actorOf(request), parent, request.params.id, {
          limit: limit + 1,
          after,
        });
        const page = keysetPage(rows, limit, (row) => [row.id]);
        return { items: page.items.map(toMediaJson), nextCursor: page.nextCursor };
      },
    );
  }

  app.get(
    '/api/media/:id',
    {
      schema: {
        tags,
        security,
        summary: "A file's metadata and status",
        params: IdParams,
        response: { 200: Media, 400: Problem, 401: Problem, 404: Problem },
      },
    },
    async (request) => service.delivery.get(actorOf(request), request.params.id),
  );

  app.patch(
    '/api/media/:id',
    {
      schema: {
        tags,
        security,
        summary: "Change a file's language, alt text and caption (translations: {es: {alt, caption}})",
        description:
          'Owner, editor or admin; a translator limited to languages may change only translations.<its languages>. Every language named must be an enabled site language (400 LANGUAGE_NOT_ENABLED).',
        params: IdParams,
        body: MediaPatch,
        response: { 200: Media, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request) =>
      toMediaJson(
        await service.delivery.describe(
          actorOf(request),
          request.params.id,
          request.body,
          app.audit.contextOf(request),
        ),
      ),
  );

  app.get(
    '/api/media/:id/url',
    {
      schema: {
        tags,
        security,
        summary: 'A signed, short-lived link to an available file (documents are always attachments)',
        params: IdParams,
        querystring: LinkQuery,
        response: { 200: Link, 400: Problem, 401: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return service.delivery.link(actorOf(request), request.params.id, request.query);
    },
  );

  app.delete(
    '/api/media/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a file and its stored objects',
        params: IdParams,
        response: { 204: NoContent, 400: Problem, 401: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      await service.delivery.delete(actorOf(request), request.params.id, app.audit.contextOf(request));
      return reply.status(204).send(null);
    },
  );

  // ---- quarantine admin (security:manage) ----
  const atags = ['admin'];
  app.get(
    '/api/admin/quarantine',
    {
      schema: {
        tags: atags,
        security,
        summary: 'Quarantined files with the reason and the scan verdict',
        querystring: QuarantineQuery,
        response: { 200: MediaPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const [after] = cursorAfter(request.query.cursor, ['uuid']) ?? [];
      const rows = await service.quarantine.list(actorOf(request), { limit: limit + 1, after });
      const page = keysetPage(rows, limit, (row) => [row.id]);
      return { items: page.items.map(toMediaJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/admin/quarantine/:id/release',
    {
      schema: {
        tags: atags,
        security,
        summary:
          'Release a quarantined file with a reason (it is still validated and sanitised; only the scan is overridden)',
        params: IdParams,
        body: ReleaseBody,
        response: { 200: Media, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (request) =>
      toMediaJson(
        await service.quarantine.release(
          actorOf(request),
          request.params.id,
          request.body.reason,
          app.audit.contextOf(request),
        ),
      ),
  );

  app.delete(
    '/api/admin/quarantine/:id',
    {
      schema: {
        tags: atags,
        security,
        summary: 'Delete a quarantined file',
        params: IdParams,
        querystring: DeleteQuery,
        response: { 204: NoContent, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      await service.quarantine.delete(
        actorOf(request),
        request.params.id,
        request.query.reason ?? '',
        app.audit.contextOf(request),
      );
      return reply.status(204).send(null);
    },
  );
};

/**
 * The signed link itself: no bearer token (an <img> cannot send one); the signature is the grant.
 * And the public resume link of a published portfolio (anonymous, like the public read).
 */
export const mediaContentRoutes: FastifyPluginAsyncTypebox<{ versions: PublicVersionRepository }> = async (
  app,
  options,
) => {
  const service = app.uploads;
  app.get(
    '/api/public/portfolios/:slug/resume',
    {
      schema: {
        tags: ['public'],
        summary: "302 to a short-lived signed link of a published portfolio's default resume in ?lang=",
        description:
          "The default resume in that language, else along the language's fallback chain, then the site default language, then one with no language. Only published public portfolios of enabled owners (slug `default`: the site default portfolio); otherwise the same 404 as the public read.",
        params: PublicSlugParams,
        querystring: ResumeQuery,
        response: {
          302: Type.Null({ description: 'Location: the signed link (Cache-Control: no-store)' }),
          400: Problem,
          404: Problem,
        },
      },
    },
    async (request, reply) => {
      const { slug } = request.params;
      if (slug !== 'default' && !SLUG_PATTERN.test(slug)) throw contentErrors.notFound('Portfolio');
      const target: PublicTarget = slug === 'default' ? { default: true } : { slug };
      const current = await options.versions.current(target);
      if (!current) throw contentErrors.notFound('Portfolio');
      const link = await service.delivery.publicResume(current.id, request.query.lang);
      if (!link) throw uploadErrors.resumeNotFound();
      void reply.header('cache-control', 'no-store');
      return reply.redirect(link.url, 302);
    },
  );
  app.get(
    '/api/media/:id/content',
    {
      schema: {
        tags,
        summary: 'Serve a file through a signed link from GET /api/media/:id/url (403 bad link, 410 expired)',
        params: IdParams,
        querystring: ContentQuery,
        produces: ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'application/pdf'],
        response: {
          200: Type.Unsafe({ type: 'string', format: 'binary' }),
          400: Problem,
          403: Problem,
          404: Problem,
          410: Problem,
        },
      },
    },
    async (request, reply) => {
      const { stream, headers } = await service.delivery.open(request.params.id, request.query);
      void reply.headers(headers);
      return reply.send(stream);
    },
  );
};
