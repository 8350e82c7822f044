/**
 * A SCIM error (RFC 7644 §3.12): the status and, for a 400 or 409, the `scimType` that tells an
 * identity provider's client what to do. The SCIM code throws it; shared/http renders it as the
 * SCIM error schema, `application/scim+json`. Other errors reaching a SCIM route (the store
 * busy, a rate limit, a body too large) are said in the same schema by the renderer.
 */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 412 | 413 | 429 | 500 | 501 | 503,
    /** For the caller, in plain words: shown as is, so never a value a person typed. */
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimError';
  }
}

export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue');
export const notFound = (resource: 'User' | 'Group') => new ScimError(404, `no such ${resource} in this tenant`);
export const uniqueness = (detail: string) => new ScimError(409, detail, 'uniqueness');
