import { Type, type TUnsafe } from '@sinclair/typebox';

/**
 * A string out of a fixed list, as `{ type: 'string', enum }`. Use it, not a union of literals,
 * for the items of a `uniqueItems` array: ajv checks uniqueness of typed scalar items with a
 * hash (linear), of untyped unions pair by pair — 0.25 s of CPU for a 64 KB body of distinct
 * strings, which anyone could send (found by tests/fuzz).
 */
export function StringEnum<const T extends string>(values: readonly T[], options: { description?: string } = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}
