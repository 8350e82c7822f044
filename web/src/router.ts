// The app's own few lines of routing: the current path from the History API, and navigation that
// tells every subscriber. A dozen screens under /app/ need nothing more (docs/web-app.md).
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());
addEventListener('popstate', notify);

/** Goes to a path of the app without reloading; `replace` keeps the history entry count. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
  scrollTo(0, 0);
}

/** The current path and query, e.g. `/app/approve?code=ABCD-EFGH`; re-renders on navigation. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const href = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => `${location.pathname}${location.search}`,
  );
  const url = new URL(href, location.origin);
  return { pathname: url.pathname, search: url.searchParams };
}

/**
 * For an `<a href>` of the app: a plain click navigates in place; a click with a modifier (new
 * tab, new window) or a middle click is left to the browser.
 */
export function followLink(
  event: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; preventDefault(): void },
  to: string,
): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}
