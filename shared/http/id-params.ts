import { Type } from '@sinclair/typebox';

/** Ids made by newId(): 32 lowercase hex characters, fixed length (no id prefixes another: docs/security.md#printer-credentials-sas-scope). */
export const IdSchema = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'Opaque id.' });

/** Route parameters of `…/{id}` routes. */
export const IdParams = Type.Object({ id: IdSchema });
