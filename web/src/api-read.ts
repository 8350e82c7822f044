// A screen's read on mount (GET), the same way everywhere: the read starts again when its path
// changes or the screen asks (reload), the read in flight is aborted then and on unmount, and an
// older answer never replaces a newer one.
import { useCallback, useEffect, useRef, useState } from 'react';
import { apiJson } from './api.js';

export type ApiRead<T> = { kind: 'loading' } | { kind: 'failed'; error: unknown } | { kind: 'loaded'; value: T };

export interface ApiReader<T> {
  state: ApiRead<T>;
  /** Reads again; what is shown stays until the answer comes. */
  reload(): void;
  /** Puts a value the screen already has (a PATCH's answer) in place of the last read. */
  set(value: T): void;
}

/**
 * GET `path` as JSON; no read while `path` is undefined. With `keep`, a new path keeps the last
 * answer on screen until its own answer comes (a search as one types), else it shows loading.
 */
export function useApiRead<T>(path: string | undefined, { keep = false } = {}): ApiReader<T> {
  const [state, setState] = useState<ApiRead<T>>({ kind: 'loading' });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  const shownPath = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (path === undefined) return;
    const controller = new AbortController();
    const number = ++latest.current;
    if (path !== shownPath.current && !keep) setState({ kind: 'loading' });
    shownPath.current = path;
    apiJson<T>(path, { signal: controller.signal }).then(
      (value) => {
        if (number === latest.current && !controller.signal.aborted) setState({ kind: 'loaded', value });
      },
      (error: unknown) => {
        if (number === latest.current && !controller.signal.aborted) setState({ kind: 'failed', error });
      },
    );
    return () => controller.abort();
  }, [path, round, keep]);

  const reload = useCallback(() => setRound((count) => count + 1), []);
  const set = useCallback((value: T) => {
    // A read still on its way would be older than this value.
    latest.current++;
    setState({ kind: 'loaded', value });
  }, []);
  return { state, reload, set };
}
