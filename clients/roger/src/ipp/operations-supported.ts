/**
 * The IPP operations `roger printer` answers (docs/clients.md#the-ipp-printer). Any other one gets
 * server-error-operation-not-supported.
 */
export const Operation = {
  printJob: 0x0002,
  validateJob: 0x0004,
  createJob: 0x0005,
  sendDocument: 0x0006,
  cancelJob: 0x0008,
  getJobAttributes: 0x0009,
  getJobs: 0x000a,
  getPrinterAttributes: 0x000b,
  cancelMyJobs: 0x0039,
  closeJob: 0x003b,
  identifyPrinter: 0x003c,
} as const;

export const OPERATIONS = Object.entries(Operation).map(([name, id]) => ({ name, id }));

/** IPP status codes (RFC 8011 §B, PWG 5100.11) that the printer answers with. */
export const Status = {
  ok: 0x0000,
  okIgnoredOrSubstituted: 0x0001,
  badRequest: 0x0400,
  notFound: 0x0406,
  notPossible: 0x0404,
  requestEntityTooLarge: 0x0408,
  documentFormatNotSupported: 0x040a,
  attributesOrValuesNotSupported: 0x040b,
  charsetNotSupported: 0x040d,
  documentFormatError: 0x0411,
  compressionNotSupported: 0x040f,
  internalError: 0x0500,
  operationNotSupported: 0x0501,
  multipleDocumentJobsNotSupported: 0x0509,
  versionNotSupported: 0x0503,
  busy: 0x0507,
} as const;
