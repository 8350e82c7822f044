import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { DocumentSource } from './submit.js';

/**
 * What `roger print` agrees to send (docs/clients.md#printing): a PDF, judged by its first bytes
 * and not by its name, of at least one byte and at most the API's 2 GiB. A Roger printer gets the
 * bytes exactly as they were uploaded (the release names no content type, and the reference
 * printer agent writes them as they are), so PDF, which every Roger printer renders, is the one
 * type that is safe to send. Each refusal is one line a person can act on.
 */

/** The API's limit on a job's size (POST /api/jobs `size`). */
export const MAX_DOCUMENT_BYTES = 2 * 1024 ** 3;

/** A file that passed the checks, with what identifies this version of it across runs. */
export interface PrintableFile {
  /** The absolute path. */
  readonly path: string;
  readonly fileName: string;
  readonly size: number;
  readonly modifiedMs: number;
}

/** A file roger will not print, and why, in one line. */
export class Refused extends Error {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`${file}: ${why}`);
    this.name = 'Refused';
  }
}

/** Checks one file given on the command line; throws Refused with the reason. */
export async function checkPrintable(given: string): Promise<PrintableFile> {
  const path = resolve(given);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new Refused(given, unreadable(error));
  }
  if (info.isDirectory()) throw new Refused(given, 'is a folder; name the PDF files in it');
  if (!info.isFile()) throw new Refused(given, 'is not a regular file');
  if (info.size === 0) throw new Refused(given, 'the file is empty');
  if (info.size > MAX_DOCUMENT_BYTES) {
    throw new Refused(
      given,
      `${formatBytes(info.size)} (${info.size} bytes): a print job may have at most 2 GiB (${MAX_DOCUMENT_BYTES} bytes)`,
    );
  }
  const fileName = basename(path);
  const nameProblem = fileNameProblem(fileName);
  if (nameProblem) throw new Refused(given, nameProblem);
  const head = await readHead(given, path);
  const type = typeOf(head);
  if (type !== 'pdf') throw new Refused(given, `${type ?? 'not a PDF file'}; roger prints PDF files only (save or export it as PDF first)`);
  return { path, fileName, size: info.size, modifiedMs: info.mtimeMs };
}

/**
 * Why the API or OneDrive would refuse this file name, if they would: the name is shown on
 * printer panels and becomes the file's name in the Print folder.
 */
export function fileNameProblem(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what it must find
  if (/["*:<>?/\\|\u0000-\u001f\u007f]/.test(name)) return 'its name has a character OneDrive refuses (" * : < > ? / \\ |); rename it';
  if (name.trim() === '' || name === '.' || name === '..') return 'its name is blank; rename it';
  if (name.length > 255) return 'its name is longer than the 255 characters OneDrive takes; rename it';
  return undefined;
}

/** The document's bytes read from the file as the upload needs them, and its key for resuming. */
export function fileSource(file: PrintableFile): DocumentSource {
  return {
    fileName: file.fileName,
    size: file.size,
    // Path, size and time: the same file unchanged, so bytes already in OneDrive are still its bytes.
    resumeKey: `${file.path}|${file.size}|${file.modifiedMs}`,
    async read(start: number, end: number) {
      const handle = await open(file.path, 'r');
      try {
        const buffer = Buffer.alloc(end - start);
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
          if (bytesRead === 0) throw new Error(`${file.fileName} became shorter while it was being sent; run the command again`);
          filled += bytesRead;
        }
        return buffer;
      } finally {
        await handle.close();
      }
    },
  };
}

/** Bytes as a person reads them: 1.2 MB, 2.1 GB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The first bytes, enough for every signature below. */
async function readHead(given: string, path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new Refused(given, unreadable(error));
  }
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * `pdf`, or what else the bytes are when it is a type people often try to print, so the refusal
 * can name it. A PDF starts with `%PDF-` (ISO 32000-1 §7.5.2); readers tolerate bytes before it,
 * printers need not, so roger does not.
 */
function typeOf(head: Buffer): 'pdf' | string | undefined {
  const starts = (signature: number[] | string) =>
    head.subarray(0, signature.length).equals(typeof signature === 'string' ? Buffer.from(signature, 'latin1') : Buffer.from(signature));
  if (starts('%PDF-')) return 'pdf';
  if (starts([0x89, 0x50, 0x4e, 0x47])) return 'a PNG image';
  if (starts([0xff, 0xd8, 0xff])) return 'a JPEG image';
  if (starts('GIF8')) return 'a GIF image';
  if (starts('II*\0') || starts('MM\0*')) return 'a TIFF image';
  if (starts('PK\x03\x04')) return 'a ZIP archive (an Office document is one)';
  if (starts([0xd0, 0xcf, 0x11, 0xe0])) return 'an old Office document';
  if (starts('%!PS')) return 'a PostScript file';
  if (starts('{\\rtf')) return 'an RTF document';
  return undefined;
}

function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'you may not read this file';
  return `cannot be read (${(error as Error).message})`;
}
