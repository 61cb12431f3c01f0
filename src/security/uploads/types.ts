/**
 * What may be uploaded, and how a file's three claims about itself are reconciled: the extension
 * of its name, the type the client declared, and its magic number (`file-type` reads the bytes).
 * All three must name the same type from the allow-list, or the file is refused: a `.jpg` that is
 * a PDF or HTML, a PNG declared as text/html, an SVG (script in an image) never get further.
 */
import path from 'node:path';

export type MediaKind = 'image' | 'document';
export const IMAGE_CATEGORIES = ['main', 'thumbnail', 'gallery', 'background'] as const;
export const DOCUMENT_CATEGORIES = ['resume', 'document'] as const;
export const CATEGORIES = [...IMAGE_CATEGORIES, ...DOCUMENT_CATEGORIES] as const;
export type Category = (typeof CATEGORIES)[number];

export function kindOfCategory(category: Category): MediaKind {
  return (IMAGE_CATEGORIES as readonly string[]).includes(category) ? 'image' : 'document';
}

export interface AllowedType {
  /** The canonical MIME type (what file-type reports and what is served). */
  mime: string;
  kind: MediaKind;
  /** Extensions that name it (first is canonical, used in storage names). */
  extensions: readonly string[];
  /** Declared types browsers send for it. */
  declared: readonly string[];
}

export const ALLOWED_TYPES: readonly AllowedType[] = [
  { mime: 'image/jpeg', kind: 'image', extensions: ['jpg', 'jpeg'], declared: ['image/jpeg', 'image/pjpeg'] },
  { mime: 'image/png', kind: 'image', extensions: ['png'], declared: ['image/png'] },
  { mime: 'image/webp', kind: 'image', extensions: ['webp'], declared: ['image/webp'] },
  { mime: 'image/gif', kind: 'image', extensions: ['gif'], declared: ['image/gif'] },
  { mime: 'image/avif', kind: 'image', extensions: ['avif'], declared: ['image/avif'] },
  { mime: 'application/pdf', kind: 'document', extensions: ['pdf'], declared: ['application/pdf'] },
];

export function typeByExtension(ext: string): AllowedType | undefined {
  return ALLOWED_TYPES.find((t) => t.extensions.includes(ext));
}

export function typeByMime(mime: string): AllowedType | undefined {
  return ALLOWED_TYPES.find((t) => t.mime === mime);
}

/** The lowercased extension of a (sanitised) name, without the dot; '' when there is none. */
export function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase();
}

/** Declared MIME type without parameters, lowercased. */
export function normaliseDeclared(declared: string | undefined): string {
  return (declared ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const MAX_NAME = 180;

/**
 * The original name as harmless metadata: the last path segment (either separator), NFC, no
 * control or bidi-override characters (a name like "cv\u202Efdp.exe" must not display as
 * "cv.exe.pdf"), no quotes; capped in length with the extension kept. Never used to build a path:
 * storage names are generated.
 */
export function sanitiseFileName(raw: string | undefined): string {
  let name = (raw ?? '').normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '');
  name = name.replace(/["<>|:*?]/g, '_').trim();
  name = name.replace(/^\.+/, '');
  if (name.length > MAX_NAME) {
    const ext = path.extname(name).slice(0, 10);
    name = name.slice(0, MAX_NAME - ext.length) + ext;
  }
  return name === '' ? 'file' : name;
}

/**
 * A Content-Disposition value (RFC 6266): an ASCII fallback plus the UTF-8 name as filename*.
 * The name is already sanitised; this only encodes it.
 */
export function contentDisposition(disposition: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
