/**
 * PDFs lose every kind of active content or are refused: document JavaScript (OpenAction, the
 * /JavaScript name tree, page /AA), Launch actions, actions hidden behind escaped names, embedded
 * files, XFA, rich media. The served file is parsed again by pdf-lib and searched byte-wise.
 */
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { inspectPdf, sanitisePdf } from './pdf.js';
import { fetchMedia, hostilePdf, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';

describe('sanitisePdf', () => {
  it('finds everything dangerous in the hostile sample', async () => {
    const { found } = await inspectPdf(await PDFDocument.load(await hostilePdf()));
    for (const f of [
      '/openaction',
      '/names',
      '/aa',
      '/xfa',
      '/embeddedfiles',
      'action /launch',
      'action /javascript',
      'annotation /richmedia',
    ]) {
      expect(found, f).toContain(f);
    }
  });

  it('rebuilds it with none of it left, keeping the page and the plain link', async () => {
    const out = await sanitisePdf(await hostilePdf());
    expect(out.pages).toBe(1);
    expect(out.removed.length).toBeGreaterThan(5);
    const doc = await PDFDocument.load(out.bytes);
    expect((await inspectPdf(doc)).found).toEqual([]);
    const text = Buffer.from(out.bytes).toString('latin1');
    for (const bad of [
      '/JavaScript',
      '/JS',
      '/OpenAction',
      '/Launch',
      '/EmbeddedFile',
      '/XFA',
      '/RichMedia',
      'app.alert',
      'calc.exe',
      'invoice.exe',
    ]) {
      expect(text, bad).not.toContain(bad);
    }
    expect(text).toContain('https://example.com/');
  });

  it('refuses what is not a PDF', async () => {
    await expect(sanitisePdf(Buffer.from('%PDF-1.7\n garbage'))).rejects.toMatchObject({ code: 'DOCUMENT_UNREADABLE' });
  });
});

describe('through the API', () => {
  let t: TestApp;
  let owner: TestUser;
  let portfolioId: string;
  beforeAll(async () => {
    t = await uploadTestApp();
    owner = await createUser(t.app);
    portfolioId = (await createPortfolio(t.app, owner)).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('a PDF with JavaScript is served sanitised', async () => {
    const res = await upload(
      t.app,
      owner,
      { portfolioId },
      { name: 'cv.pdf', type: 'application/pdf', data: await hostilePdf() },
      { category: 'resume' },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().status).toBe('available');
    const { body } = await fetchMedia(t.app, owner, res.json().id);
    const served = await PDFDocument.load(body ?? Buffer.alloc(0));
    expect((await inspectPdf(served)).found).toEqual([]);
    expect(body?.toString('latin1')).not.toMatch(/JavaScript|app\.alert|\/Launch|EmbeddedFile/);
  });
});
