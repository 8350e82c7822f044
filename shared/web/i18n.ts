/**
 * The languages of the pages a browser sees: English and French, as the whitepaper. A page
 * picks one from the browser's `Accept-Language` (RFC 9110 §12.5.4) and keeps all its texts in
 * both; English when the browser asks for neither.
 */
export type Language = 'en' | 'fr';

export const LANGUAGES: readonly Language[] = ['en', 'fr'];

/** Each text of a page, in every language. */
export type Texts<T> = Readonly<Record<Language, T>>;

const MAX_RANGES = 20; // a header is the client's; a long one costs no more than this

/**
 * The language the browser prefers most among ours: ranges by their `q` (default 1; `q=0` means
 * "not this one"), ties in the order sent; a range matches by its primary subtag (`fr-CA` is
 * French), `*` means any, so English. Malformed ranges are skipped.
 */
export function languageOf(headers: Headers): Language {
  const header = headers.get('accept-language');
  if (!header) return 'en';
  let best: { language: Language; q: number } | undefined;
  for (const range of header.split(',').slice(0, MAX_RANGES)) {
    const [tag = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParameter = parameters.find((p) => p.startsWith('q='));
    const q = qParameter ? Number(qParameter.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    const primary = tag.split('-')[0];
    const language: Language | undefined = primary === 'fr' ? 'fr' : primary === 'en' || primary === '*' ? 'en' : undefined;
    if (language && (!best || q > best.q)) best = { language, q };
  }
  return best?.language ?? 'en';
}
