/**
 * The privacy notice (docs/PRIVACY.md "Consent and the privacy notice"): its text, version and
 * date, from the file PRIVACY_NOTICE_FILE (read at start, read again when its modification time
 * changes), else from the site setting `privacyNotice` (saved by an admin, PATCH
 * /api/admin/settings; its date is when it was saved). Neither: no notice, and the contact form
 * asks for no acceptance.
 *
 * The version is PRIVACY_NOTICE_VERSION when set (the operator names versions, e.g. 2026-01, and
 * decides when an edit is a new one); otherwise `sha256-` and the first 16 hex digits of the
 * text's SHA-256, so any change of the text is a new version that senders must accept again.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

export interface NoticeState {
  version: string;
  updatedAt: Date;
  text: string;
}

/** Longest notice served (a notice is a page of text, not a document store). */
export const MAX_NOTICE_BYTES = 256 * 1024;

export function noticeVersionOf(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)}`;
}

export class PrivacyNotice {
  private state: NoticeState | null = null;
  private mtimeMs = -1;

  constructor(
    private readonly o: {
      file?: string | undefined;
      version?: string | undefined;
      /** The notice saved in the site settings (used when no file is configured). */
      saved?: () => { text: string; updatedAt: Date } | null;
      log?: { warn(obj: object, msg: string): void };
    },
  ) {}

  /** Reads the file at start: a configured notice that cannot be read stops the start. */
  async load(): Promise<void> {
    if (!this.o.file) return;
    await this.read(this.o.file);
  }

  private async read(file: string): Promise<void> {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- PRIVACY_NOTICE_FILE, set by the operator
    const info = await stat(file);
    if (info.size > MAX_NOTICE_BYTES) throw new Error(`PRIVACY_NOTICE_FILE is larger than ${MAX_NOTICE_BYTES} bytes`);
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- PRIVACY_NOTICE_FILE, set by the operator
    const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
    if (text.trim() === '') throw new Error('PRIVACY_NOTICE_FILE is empty');
    this.state = { text, version: this.o.version ?? noticeVersionOf(text), updatedAt: info.mtime };
    this.mtimeMs = info.mtimeMs;
  }

  /** The current notice, or null when none is configured. A file that became unreadable keeps the last text. */
  async current(): Promise<NoticeState | null> {
    const file = this.o.file;
    if (!file) return this.fromSettings();
    try {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- PRIVACY_NOTICE_FILE, set by the operator
      const info = await stat(file);
      if (info.mtimeMs !== this.mtimeMs) await this.read(file);
    } catch (err) {
      this.o.log?.warn({ err }, 'privacy notice: PRIVACY_NOTICE_FILE unreadable, serving the last version read');
    }
    return this.state;
  }

  private fromSettings(): NoticeState | null {
    const saved = this.o.saved?.() ?? null;
    if (saved === null) {
      this.state = null;
      return null;
    }
    if (this.state?.text !== saved.text || this.state.updatedAt.getTime() !== saved.updatedAt.getTime()) {
      this.state = {
        text: saved.text,
        version: this.o.version ?? noticeVersionOf(saved.text),
        updatedAt: saved.updatedAt,
      };
    }
    return this.state;
  }
}
