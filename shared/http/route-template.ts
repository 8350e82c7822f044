/**
 * Azure Functions route templates, as far as this app uses them: literal segments, `{name}`
 * parameters and one final catch-all `{*name}`. Matching follows ASP.NET Core routing, which
 * the Functions host uses: literals are case-insensitive, a literal segment beats a parameter,
 * a parameter beats a catch-all, and a trailing slash is ignored.
 */
type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'catchAll'; readonly name: string };

export interface RouteTemplate {
  readonly template: string;
  readonly segments: readonly Segment[];
  /** Route parameter values for `path`, or undefined when it does not match. */
  match(path: string): Record<string, string> | undefined;
}

const PARAM = /^\{([A-Za-z][A-Za-z0-9_]*)\}$/;
const CATCH_ALL = /^\{\*([A-Za-z][A-Za-z0-9_]*)\}$/;
const LITERAL = /^[A-Za-z0-9._~-]+$/;

export function parseRouteTemplate(template: string): RouteTemplate {
  const parts = template === '' ? [] : template.split('/');
  const segments: Segment[] = parts.map((part, index) => {
    const catchAll = CATCH_ALL.exec(part);
    if (catchAll) {
      if (index !== parts.length - 1) throw new Error(`route "${template}": a catch-all must be the last segment`);
      return { kind: 'catchAll', name: catchAll[1]! };
    }
    const param = PARAM.exec(part);
    if (param) return { kind: 'param', name: param[1]! };
    if (LITERAL.test(part)) return { kind: 'literal', value: part.toLowerCase() };
    throw new Error(`route "${template}": unsupported segment "${part}"`);
  });

  return {
    template,
    segments,
    match(path) {
      const trimmed = path.replace(/^\/+/, '').replace(/\/$/, '');
      const pieces = trimmed === '' ? [] : trimmed.split('/');
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i]!;
        if (segment.kind === 'catchAll') {
          params[segment.name] = safeDecode(pieces.slice(i).join('/')) ?? '';
          return params;
        }
        const piece = pieces[i];
        if (piece === undefined || piece === '') return undefined;
        const decoded = safeDecode(piece);
        if (decoded === undefined) return undefined;
        if (segment.kind === 'literal') {
          if (decoded.toLowerCase() !== segment.value) return undefined;
        } else {
          params[segment.name] = decoded;
        }
      }
      return pieces.length === segments.length ? params : undefined;
    },
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const weight = { literal: 0, param: 1, catchAll: 2 } as const;

/** Negative when `a` is more specific than `b` (it must be tried first). */
export function compareSpecificity(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const wa = a.segments[i] ? weight[a.segments[i]!.kind] : -1;
    const wb = b.segments[i] ? weight[b.segments[i]!.kind] : -1;
    if (wa !== wb) return wa - wb;
  }
  return 0;
}
