/**
 * The part of @sealsystems/ipp (CommonJS, untyped) that roger uses: its request parser, imported
 * alone, as the package's index also loads an attribute registry that roger does not need.
 */
declare module '@sealsystems/ipp/lib/parser.js' {
  /** Groups by name (`operation-attributes-tag`, …), each an object of attributes; the document as `data`. */
  const parse: (bytes: Buffer) => Record<string, unknown>;
  export default parse;
}
