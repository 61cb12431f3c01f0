/**
 * A multipart upload with progress: XMLHttpRequest, because fetch reports no upload progress.
 * Same rules as api.ts: same origin, cookies, `X-Auth-Mode: browser`, the CSRF cookie echoed.
 */
import { csrfToken, type Problem } from '../../api';

export type UploadResult<T> = { ok: true; data: T } | { ok: false; problem: Problem };

export function uploadWithProgress<T>(
  path: string,
  form: FormData,
  onProgress: (sent: number, total: number) => void,
): Promise<UploadResult<T>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json, application/problem+json');
    xhr.setRequestHeader('x-auth-mode', 'browser');
    const csrf = csrfToken();
    if (csrf !== null) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = xhr.responseText === '' ? {} : (JSON.parse(xhr.responseText) as Record<string, unknown>);
      } catch {
        body = {};
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ ok: true, data: body as T });
        return;
      }
      const errors = Array.isArray(body['errors']) ? (body['errors'] as Problem['errors']) : [];
      const retry = xhr.getResponseHeader('retry-after');
      resolve({
        ok: false,
        problem: {
          status: xhr.status,
          code: typeof body['code'] === 'string' ? body['code'] : xhr.status >= 500 ? 'SERVER_ERROR' : 'UNKNOWN',
          detail: typeof body['detail'] === 'string' ? body['detail'] : '',
          errors,
          retryAfter: retry !== null && /^\d+$/.test(retry) ? Number(retry) : null,
        },
      });
    };
    const failed = () =>
      resolve({ ok: false, problem: { status: 0, code: 'NETWORK', detail: '', errors: [], retryAfter: null } });
    xhr.onerror = failed;
    xhr.onabort = failed;
    xhr.send(form);
  });
}
