/**
 * Cuts a plain SQL dump into runnable batches at statement boundaries, as it streams. PGlite has
 * no psql: a restore feeds it the dump through exec(), a batch of whole statements at a time, so
 * memory stays at about one batch.
 *
 * The scanner knows what can hide a semicolon: '...' strings (with '' inside), E'...' strings
 * (with backslash escapes), "..." identifiers, $tag$...$tag$ bodies, -- and nested /* comments.
 * A psql meta-command line (\restrict, \connect) at the start of a statement is dropped: it is
 * not SQL, and the dumps of pglite-tools do not need it.
 */

type State = 'normal' | 'single' | 'escape' | 'double' | 'dollar' | 'line' | 'block';

export class SqlBatcher {
  private buf = '';
  /** Scan position in buf. */
  private pos = 0;
  /** End of the last complete statement in buf. */
  private cut = 0;
  private state: State = 'normal';
  private tag = '';
  private depth = 0;
  /** Nothing but whitespace and comments since the last statement end. */
  private atStart = true;

  constructor(private readonly batchChars = 1 << 20) {}

  /** Adds text; returns the batches that are complete and large enough. */
  push(text: string): string[] {
    this.buf += text;
    this.scan();
    const out: string[] = [];
    if (this.cut >= this.batchChars) out.push(this.take());
    return out;
  }

  /** The rest at the end of the input: throws if it ends inside a string or a statement. */
  end(): string {
    this.scan();
    if (this.state !== 'normal' && this.state !== 'line')
      throw new Error('The dump ends inside a string, identifier or comment');
    const rest = this.buf.slice(this.cut).trim();
    if (rest !== '' && !isOnlyComments(rest)) throw new Error('The dump ends in the middle of a statement');
    const all = this.buf;
    this.buf = '';
    this.pos = 0;
    this.cut = 0;
    return all;
  }

  private take(): string {
    const batch = this.buf.slice(0, this.cut);
    this.buf = this.buf.slice(this.cut);
    this.pos -= this.cut;
    this.cut = 0;
    return batch;
  }

  private scan(): void {
    const b = this.buf;
    let i = this.pos;
    const n = b.length;
    while (i < n) {
      const c = b.charCodeAt(i);
      switch (this.state) {
        case 'normal':
          if (c === 59 /* ; */) {
            this.cut = i + 1;
            this.atStart = true;
            i++;
          } else if (c === 39 /* ' */) {
            const prev = i > 0 ? b.charCodeAt(i - 1) : 0;
            const before = i > 1 ? b.charCodeAt(i - 2) : 0;
            this.state = (prev === 69 || prev === 101) /* E e */ && !isIdentChar(before) ? 'escape' : 'single';
            this.atStart = false;
            i++;
          } else if (c === 34 /* " */) {
            this.state = 'double';
            this.atStart = false;
            i++;
          } else if ((c === 45 /* - */ || c === 47) /* / */ && i + 1 >= n) {
            return this.wait(i); // a comment may start across the chunk boundary
          } else if (c === 45 && b.charCodeAt(i + 1) === 45) {
            this.state = 'line';
            i += 2;
          } else if (c === 47 /* / */ && b.charCodeAt(i + 1) === 42 /* * */) {
            this.state = 'block';
            this.depth = 1;
            i += 2;
          } else if (c === 36 /* $ */ && !isIdentChar(i > 0 ? b.charCodeAt(i - 1) : 0)) {
            const tag = dollarTag(b, i);
            if (tag) {
              this.tag = tag;
              this.state = 'dollar';
              this.atStart = false;
              i += tag.length;
            } else if (n - i < 66 && /^\$[A-Za-z0-9_]*$/.test(b.slice(i))) {
              return this.wait(i); // a tag may be cut by the chunk boundary
            } else {
              i++;
            }
          } else if (c === 92 /* \ */ && this.atStart && (i === 0 || b.charCodeAt(i - 1) === 10)) {
            // A psql meta-command line: drop it from the buffer.
            const eol = b.indexOf('\n', i);
            if (eol === -1) return this.wait(i);
            this.buf = b.slice(0, i) + b.slice(eol + 1);
            this.pos = i;
            return this.scan();
          } else {
            if (c !== 32 && c !== 10 && c !== 9 && c !== 13) this.atStart = false;
            i++;
          }
          break;
        case 'escape':
        case 'single': {
          // E'...': a backslash escapes the next byte; otherwise the same as a plain string.
          if (this.state === 'escape' && c === 92) {
            i += 2;
            break;
          }
          if (c !== 39) {
            i++;
            break;
          }
          if (i + 1 >= n) return this.wait(i);
          if (b.charCodeAt(i + 1) === 39) i += 2;
          else {
            this.state = 'normal';
            i++;
          }
          break;
        }
        case 'double':
          if (c === 34) this.state = 'normal';
          i++;
          break;
        case 'dollar': {
          const j = b.indexOf(this.tag, i);
          if (j === -1) {
            this.pos = Math.max(i, n - this.tag.length + 1);
            return;
          }
          this.state = 'normal';
          i = j + this.tag.length;
          break;
        }
        case 'line': {
          const j = b.indexOf('\n', i);
          if (j === -1) {
            this.pos = n;
            return;
          }
          this.state = 'normal';
          i = j + 1;
          break;
        }
        case 'block':
          if (c === 42 && b.charCodeAt(i + 1) === 47) {
            this.depth--;
            i += 2;
            if (this.depth === 0) this.state = 'normal';
          } else if (c === 47 && b.charCodeAt(i + 1) === 42) {
            this.depth++;
            i += 2;
          } else if ((c === 42 || c === 47) && i + 1 >= n) {
            return this.wait(i);
          } else i++;
          break;
      }
    }
    this.pos = i;
  }

  /** Stops scanning at i until more text arrives (a token may continue in the next chunk). */
  private wait(i: number): void {
    this.pos = i;
  }
}

/** `$$` or `$tag$` starting at i (a tag is an identifier without `$`), else null. */
function dollarTag(b: string, i: number): string | null {
  let j = i + 1;
  while (j < b.length && j - i < 66) {
    const c = b.charCodeAt(j);
    if (c === 36) return b.slice(i, j + 1);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (!letter && !(j > i + 1 && c >= 48 && c <= 57)) return null;
    j++;
  }
  return null;
}

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
}

function isOnlyComments(s: string): boolean {
  return s
    .split('\n')
    .map((l) => l.trim())
    .every((l) => l === '' || l.startsWith('--'));
}
