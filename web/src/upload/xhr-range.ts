// The browser's transport for an upload session's ranges (resumable-upload.ts takes it as a
// function): XMLHttpRequest, because fetch reports no upload progress.
import { parse, type SendRange } from './resumable-upload.js';

/**
 * The browser's transport: XMLHttpRequest, for its upload progress events. A stall timer, reset by
 * every progress event, gives up on a connection that went silent without a reset. Graph's CORS
 * answers do not list Retry-After in Access-Control-Expose-Headers (as far as we could find), so a
 * page usually cannot read it: it is used when exposed, and otherwise the backoff alone decides.
 */
export const xhrSendRange: SendRange = (url, range, contentRange, { signal, stallMs, onProgress }) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stop();
        xhr.abort();
        reject(new Error('stalled'));
      }, stallMs);
    };
    const onAbort = () => {
      stop();
      xhr.abort();
      reject(signal.reason as Error);
    };
    if (signal.aborted) return reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort);
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Range', contentRange);
    xhr.upload.onprogress = (event) => {
      arm();
      onProgress(event.loaded);
    };
    xhr.onload = () => {
      stop();
      // getAllResponseHeaders lists only the headers CORS exposes; getResponseHeader on another logs an error.
      const exposed = /^retry-after:\s*(.+)$/im.exec(xhr.getAllResponseHeaders())?.[1]?.trim();
      resolve({ status: xhr.status, body: parse(xhr.responseText), retryAfter: exposed ?? null });
    };
    xhr.onerror = () => {
      stop();
      reject(new Error('network'));
    };
    arm();
    xhr.send(range);
  });
