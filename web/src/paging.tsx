// Paging through an API list (`limit` + `continuationToken`, docs/api.md): Next follows the token
// the last page gave; Previous goes back by keeping the tokens of the pages already seen, since
// the API's tokens only point forward.
import { Button, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import { useWords, type Bilingual } from './i18n.js';

export interface Paging {
  /** The token of the page shown now; undefined on the first page. */
  token: string | undefined;
  /** 1 on the first page. */
  number: number;
  next(token: string): void;
  previous(): void;
  /** Back to the first page (a new search). */
  reset(): void;
}

export function usePaging(): Paging {
  const [seen, setSeen] = useState<readonly string[]>([]);
  const next = useCallback((token: string) => setSeen((pages) => [...pages, token]), []);
  const previous = useCallback(() => setSeen((pages) => pages.slice(0, -1)), []);
  const reset = useCallback(() => setSeen((pages) => (pages.length === 0 ? pages : [])), []);
  return { token: seen.at(-1), number: seen.length + 1, next, previous, reset };
}

/** Page size: `?limit=` in the address (1–100) when given, else the screen's own. */
export function pageSize(search: URLSearchParams, fallback: number): number {
  const asked = Number(search.get('limit'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 100 ? asked : fallback;
}

const WORDS: Bilingual<{ label: string; previous: string; next: string; page: (n: number) => string }> = {
  en: { label: 'Pages', previous: 'Previous', next: 'Next', page: (n) => `Page ${n}` },
  fr: { label: 'Pages', previous: 'Précédente', next: 'Suivante', page: (n) => `Page ${n}` },
};

const useStyles = makeStyles({
  bar: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, flexWrap: 'wrap' },
});

/** Previous / page number / Next under a list; hidden when everything fits one page. */
export function Pager({ paging, nextToken }: { paging: Paging; nextToken: string | null | undefined }) {
  const styles = useStyles();
  const words = useWords(WORDS);
  if (paging.number === 1 && !nextToken) return null;
  return (
    <nav className={styles.bar} aria-label={words.label}>
      <Button disabled={paging.number === 1} onClick={paging.previous}>
        {words.previous}
      </Button>
      <Text aria-live="polite">{words.page(paging.number)}</Text>
      <Button disabled={!nextToken} onClick={() => nextToken && paging.next(nextToken)}>
        {words.next}
      </Button>
    </nav>
  );
}
