import { ApiError } from '@roger-cloud/client-kit/http';
import type { Session } from '../credentials.js';

/**
 * `roger cancel ID` (docs/clients.md#following-jobs): `DELETE /api/jobs/{id}`. Only a job no
 * printer has (registered, queued, or failed) can be cancelled; the API's 409 names the state the job is in, which roger
 * turns into why.
 */
export async function cancelJob(session: Session, id: string): Promise<void> {
  try {
    await session.call(`/api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 404) throw new Error(`no job ${id} (or it has expired): see \`roger jobs\``, { cause: error });
    if (error.status === 409) throw new Error(`job ${id} cannot be cancelled: ${tooLate(error.problem.state)}`, { cause: error });
    throw error;
  }
}

function tooLate(state: unknown): string {
  switch (state) {
    case 'released':
      return 'it has already been sent to a printer';
    case 'printed':
      return 'it has already been printed';
    case 'cancelled':
      return 'it was cancelled already';
    default:
      return typeof state === 'string' ? `it is ${state}` : 'it is no longer waiting to be printed';
  }
}
