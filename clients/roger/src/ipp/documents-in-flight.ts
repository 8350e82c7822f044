/**
 * The documents `roger printer` holds at once (docs/clients.md#the-ipp-printer). Each is kept
 * whole in memory, up to MAX_DOCUMENT_BYTES, from the moment its bytes arrive until Roger has it
 * queued; with no bound, a print dialog (or a loop) sending many at once would take the memory of
 * this machine. Past the bound a request with a large document is answered server-error-busy at once,
 * before its bytes are kept (RFC 8011 appendix B: the client sends the same request again later).
 */
export const MAX_DOCUMENTS_IN_FLIGHT = 2;

/**
 * Past this many bytes a request is bringing a document of some size (the attribute part is
 * small), and needs a place. A request up to this size, small documents included, costs no more
 * memory than any other request, so it is always served: print dialogs send several small jobs
 * in a row (ipptool's conformance suite does), and a burst of them is not turned away.
 */
export const SMALL_REQUEST_BYTES = 64 * 1024;

/** Gives back what `hold` or `tryHold` took; a second call does nothing. */
export type Release = () => void;

export class DocumentsInFlight {
  private held = 0;

  constructor(readonly limit = MAX_DOCUMENTS_IN_FLIGHT) {}

  get count(): number {
    return this.held;
  }

  /** A place for one more incoming document, or undefined when all `limit` are taken. */
  tryHold(): Release | undefined {
    return this.held < this.limit ? this.hold() : undefined;
  }

  /**
   * A place for a document already taken in (the upload of one that `tryHold` let in): never
   * refused, so the count is right while the request's own place is given back.
   */
  hold(): Release {
    this.held += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= 1;
    };
  }
}
