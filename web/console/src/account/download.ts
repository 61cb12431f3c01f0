/**
 * Backup codes as a text file, made in the page: a Blob behind an object URL, clicked through a
 * temporary <a download>. A download is not a fetch or a navigation the CSP governs, so no
 * directive changes (no `blob:` anywhere); the URL is revoked a minute later.
 */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
