/** Status codes the Cosmos SDK puts on `error.code`, named for what they mean to the app. */
const statusOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** 400: Cosmos refused the request as malformed (e.g. a continuation token it did not issue). */
export const isBadRequest = (error: unknown) => statusOf(error) === 400;
/** 409: an item with this id already exists (create). */
export const isConflict = (error: unknown) => statusOf(error) === 409;
/** 412: the ETag no longer matches: someone else changed the item first. */
export const isPreconditionFailed = (error: unknown) => statusOf(error) === 412;
/** 404: no such item. */
export const isNotFound = (error: unknown) => statusOf(error) === 404;
