/**
 * PDF sanitising with pdf-lib. A PDF can carry active content that runs or calls out when it is
 * opened: JavaScript (/JS, /JavaScript name trees), /OpenAction and additional actions (/AA),
 * /Launch (start a program), embedded files (/EmbeddedFile(s), file attachment annotations), XFA
 * forms, rich media (/RichMedia, Flash, 3D, movies). None of it belongs in a resume.
 *
 * The approach is rebuild, not patch: a new document receives copies of the pages only, so the
 * catalog of the upload (its /OpenAction, /Names with /JavaScript and /EmbeddedFiles, /AcroForm
 * with /XFA, outlines with actions) is left behind whole, and so is every object not reachable
 * from a page. What pages drag along (page /AA, annotations with actions) is then stripped: any
 * dangerous key is removed, any action other than a plain link (URI, GoTo) is removed, and
 * annotations that embed things (FileAttachment, RichMedia, Screen, Movie, Sound, 3D) are dropped.
 * Finally the output is parsed again and checked: if anything dangerous is still there, the file
 * is refused rather than served.
 *
 * Names are compared after decoding #xx escapes in either case, so `/J#61vaScript` is JavaScript.
 * Encrypted PDFs cannot be scanned or rebuilt; the pipeline quarantines them as unscannable.
 * pdf-lib holds the document in memory: UPLOAD_MAX_DOCUMENT_BYTES bounds that.
 *
 * pdf-lib (about 20 MB of memory) loads with the first PDF an upload brings, not at start; the
 * helpers below take the loaded module.
 */
import type { PDFDict as PdfDict, PDFDocument, PDFName as PdfName, PDFObject } from 'pdf-lib';
import { lazyModule } from '../../platform/lazy.js';
import { uploadErrors } from './errors.js';

type PdfLib = typeof import('pdf-lib');
const loadPdfLib = lazyModule((): Promise<PdfLib> => import('pdf-lib'));

const BANNED_KEYS = new Set([
  'js',
  'javascript',
  'aa',
  'openaction',
  'launch',
  'embeddedfile',
  'embeddedfiles',
  'ef',
  'xfa',
  'richmedia',
  'richmediacontent',
  'richmediasettings',
  'richmediaexecute',
  'names',
  'acroform',
  'sound',
  'movie',
]);
/** Actions that only navigate; every other action type (JavaScript, Launch, SubmitForm, ImportData, GoToE, GoToR, ...) is removed. */
const ALLOWED_ACTIONS = new Set(['uri', 'goto']);
const BANNED_ANNOTATIONS = new Set(['fileattachment', 'richmedia', 'screen', 'movie', 'sound', '3d']);

export class EncryptedPdfError extends Error {
  constructor() {
    super('The PDF is encrypted');
    this.name = 'EncryptedPdfError';
  }
}

function nameOf(name: PdfName): string {
  let s = name.decodeText();
  s = s.replace(/^\//, '').replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return s.toLowerCase();
}

function valueName(lib: PdfLib, dict: PdfDict, key: string): string | undefined {
  const { PDFName } = lib;
  const v = dict.get(PDFName.of(key));
  return v instanceof PDFName ? nameOf(v) : undefined;
}

/** Loads a PDF for checking; encrypted and unreadable files are told apart. */
export async function loadPdf(bytes: Uint8Array): Promise<PDFDocument> {
  const { PDFDocument } = await loadPdfLib();
  let doc: PDFDocument;
  let pages: number;
  try {
    doc = await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: true });
    if (doc.isEncrypted) throw new EncryptedPdfError();
    // A broken page tree throws here (pdf-lib reports it as a TypeError), not at load.
    pages = doc.getPageCount();
    doc.getPages();
  } catch (err) {
    if (err instanceof EncryptedPdfError) throw err;
    throw uploadErrors.documentUnreadable();
  }
  if (pages === 0) throw uploadErrors.documentUnreadable('The PDF has no pages');
  return doc;
}

export interface PdfFindings {
  /** Human-readable list of what was found (e.g. "/OpenAction", "action /JavaScript"). */
  found: string[];
}

/** Walks every object (indirect and nested) and lists what is dangerous. */
export async function inspectPdf(doc: PDFDocument): Promise<PdfFindings> {
  return findings(await loadPdfLib(), doc);
}

function findings(lib: PdfLib, doc: PDFDocument): PdfFindings {
  const { PDFArray, PDFDict, PDFRef, PDFStream } = lib;
  const found = new Set<string>();
  const visit = (obj: PDFObject | undefined, depth: number, parentKey: string) => {
    if (!obj || depth > 50) return;
    // References are followed where they are met only for actions; every indirect object is visited below anyway.
    const target = obj instanceof PDFRef && (parentKey === 'a' || parentKey === 'next') ? doc.context.lookup(obj) : obj;
    const dict = target instanceof PDFStream ? target.dict : target;
    if (dict instanceof PDFDict) {
      const s = valueName(lib, dict, 'S');
      const isAction = parentKey === 'a' || parentKey === 'next' || valueName(lib, dict, 'Type') === 'action';
      if (isAction && (!s || !ALLOWED_ACTIONS.has(s))) found.add(`action /${s ?? 'unknown'}`);
      const subtype = valueName(lib, dict, 'Subtype');
      if (subtype && BANNED_ANNOTATIONS.has(subtype)) found.add(`annotation /${subtype}`);
      if (target !== obj) return;
      for (const [key, value] of dict.entries()) {
        const k = nameOf(key);
        if (BANNED_KEYS.has(k)) found.add(`/${k}`);
        visit(value, depth + 1, k);
      }
    } else if (target instanceof PDFArray) {
      for (let i = 0; i < target.size(); i++) visit(target.get(i), depth + 1, parentKey === 'next' ? 'next' : '');
    }
  };
  for (const [, obj] of doc.context.enumerateIndirectObjects()) visit(obj, 0, '');
  return { found: [...found].sort() };
}

function strip(lib: PdfLib, obj: PDFObject | undefined, depth: number): void {
  const { PDFArray, PDFDict, PDFName, PDFRef, PDFStream } = lib;
  if (!obj || depth > 50) return;
  const dict = obj instanceof PDFStream ? obj.dict : obj;
  if (dict instanceof PDFDict) {
    for (const key of dict.keys()) {
      if (BANNED_KEYS.has(nameOf(key))) dict.delete(key);
    }
    const action = dict.get(PDFName.of('A'));
    if (action instanceof PDFDict || action instanceof PDFRef) {
      const resolved = action instanceof PDFRef ? dict.context.lookup(action) : action;
      const s = resolved instanceof PDFDict ? valueName(lib, resolved, 'S') : undefined;
      if (!s || !ALLOWED_ACTIONS.has(s)) dict.delete(PDFName.of('A'));
      // A kept link loses its /Next chain, which could lead on to any other action.
      else if (resolved instanceof PDFDict) resolved.delete(PDFName.of('Next'));
    }
    const annots = dict.get(PDFName.of('Annots'));
    const list = annots instanceof PDFRef ? dict.context.lookup(annots) : annots;
    if (list instanceof PDFArray) {
      for (let i = list.size() - 1; i >= 0; i--) {
        const a = list.lookup(i);
        const subtype = a instanceof PDFDict ? valueName(lib, a, 'Subtype') : undefined;
        if (subtype && BANNED_ANNOTATIONS.has(subtype)) list.remove(i);
      }
    }
    for (const [, value] of dict.entries()) strip(lib, value, depth + 1);
  } else if (obj instanceof PDFArray) {
    for (let i = 0; i < obj.size(); i++) strip(lib, obj.get(i), depth + 1);
  }
}

/**
 * Deletes every object no longer reachable from the trailer (what stripping cut loose: a page's
 * /AA target, a removed annotation), so nothing dangerous is written even as dead weight.
 */
function dropUnreachable(lib: PdfLib, doc: PDFDocument): void {
  const { PDFArray, PDFDict, PDFRef, PDFStream } = lib;
  const ctx = doc.context;
  const seen = new Set<string>();
  const walk = (obj: PDFObject | undefined, depth: number) => {
    if (!obj || depth > 200) return;
    if (obj instanceof PDFRef) {
      const tag = obj.toString();
      if (seen.has(tag)) return;
      seen.add(tag);
      walk(ctx.lookup(obj), depth + 1);
      return;
    }
    const dict = obj instanceof PDFStream ? obj.dict : obj;
    if (dict instanceof PDFDict) for (const [, v] of dict.entries()) walk(v, depth + 1);
    else if (obj instanceof PDFArray) for (let i = 0; i < obj.size(); i++) walk(obj.get(i), depth + 1);
  };
  walk(ctx.trailerInfo.Root, 0);
  walk(ctx.trailerInfo.Info, 0);
  for (const [ref] of ctx.enumerateIndirectObjects()) if (!seen.has(ref.toString())) ctx.delete(ref);
}

export interface SanitisedPdf {
  bytes: Uint8Array;
  pages: number;
  /** What the upload carried and was removed. */
  removed: string[];
}

/** Rebuilds the PDF from its pages without active content, or refuses it. */
export async function sanitisePdf(bytes: Uint8Array): Promise<SanitisedPdf> {
  const lib = await loadPdfLib();
  const { PDFDocument } = lib;
  const source = await loadPdf(bytes);
  let removed: string[];
  try {
    removed = findings(lib, source).found;
  } catch {
    throw uploadErrors.documentUnreadable();
  }
  let output: Uint8Array;
  try {
    const out = await PDFDocument.create({ updateMetadata: false });
    const pages = await out.copyPages(source, source.getPageIndices());
    for (const page of pages) out.addPage(page);
    for (const [, obj] of out.context.enumerateIndirectObjects()) strip(lib, obj, 0);
    dropUnreachable(lib, out);
    out.setProducer('portfolio-backend');
    output = await out.save({ useObjectStreams: false, addDefaultPage: false });
  } catch {
    throw uploadErrors.documentUnreadable('The PDF could not be rebuilt');
  }
  // Trust the result only after reading it back.
  let check: PDFDocument;
  let left: string[];
  try {
    check = await PDFDocument.load(output, { updateMetadata: false });
    left = findings(lib, check).found;
  } catch {
    throw uploadErrors.documentUnreadable('The rebuilt PDF could not be read back');
  }
  if (left.length > 0) throw uploadErrors.activeContent(`Active content could not be removed: ${left.join(', ')}`);
  return { bytes: output, pages: check.getPageCount(), removed };
}
