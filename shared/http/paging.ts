import { Type, type TSchema } from '@sinclair/typebox';

/** The query of a paged list (docs/api.md#conventions): `limit` and `continuationToken`. */
export const PageQuery = (defaultLimit: number) =>
  Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: defaultLimit })),
      // Cosmos tokens are printable ASCII and travel in a header (x-ms-continuation).
      continuationToken: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^[\\x20-\\x7E]+$' })),
    },
    { additionalProperties: false },
  );

/** `{ items, continuationToken }` with items of `item`. */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), continuationToken: Type.Union([Type.String(), Type.Null()]) });
