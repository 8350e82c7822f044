// Turns an API answer that is not OK into words: RFC 9457 problem+json's `title` and `detail`.
export interface ProblemWords {
  title: string;
  detail?: string;
}

export async function problemOf(response: Response, fallback: string): Promise<ProblemWords> {
  try {
    const body = (await response.json()) as { title?: unknown; detail?: unknown };
    return {
      title: typeof body.title === 'string' ? body.title : fallback,
      ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
    };
  } catch {
    return { title: fallback, detail: `HTTP ${response.status}` };
  }
}
