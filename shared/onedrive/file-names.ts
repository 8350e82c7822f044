/**
 * File names as OneDrive for Business handles them: case-insensitive within a folder, a
 * conflict renamed to `name 1.ext`, `name 2.ext`…, and a fixed set of characters refused.
 */

/** A character OneDrive for Business refuses in a name (or a control character). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it must find
const FORBIDDEN_CHARACTER = /["*:<>?/\\|\u0000-\u001f\u007f]/;
/** All of them, for replacing (a global regex keeps state between `test` calls, so not for testing). */
const FORBIDDEN = new RegExp(FORBIDDEN_CHARACTER.source, 'g');
const MAX_NAME_LENGTH = 200;

function splitExtension(name: string): [stem: string, extension: string] {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

/**
 * Does OneDrive take `name` as it is? Not blank, not `.` or `..`, none of the refused
 * characters, at most 255 UTF-16 units (what Graph counts). A name it refuses is the client's
 * mistake (400), not OneDrive failing (502).
 */
export function isOneDriveName(name: string): boolean {
  return name.trim() !== '' && name !== '.' && name !== '..' && !FORBIDDEN_CHARACTER.test(name) && name.length <= 255;
}

/** Is `actual` the file uploaded as `requested`, possibly renamed by OneDrive on a conflict? */
export function isNameOfUpload(actual: string, requested: string): boolean {
  const a = actual.normalize('NFC').toLowerCase();
  const r = requested.normalize('NFC').toLowerCase();
  if (a === r) return true;
  const [stem, extension] = splitExtension(r);
  if (!a.startsWith(`${stem} `) || !a.endsWith(extension)) return false;
  return /^[1-9][0-9]{0,5}$/.test(a.slice(stem.length + 1, a.length - extension.length));
}

/**
 * A name the scanner may upload as: forbidden characters become `_`, surrounding spaces and
 * dots go (OneDrive refuses trailing dots), at most 200 characters, and the profile's
 * extension when the name has another one. Never empty.
 */
export function sanitizeFileName(name: string, extension: string): string {
  let clean = name
    .normalize('NFC')
    .replace(FORBIDDEN, '_')
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, '');
  if (!clean.toLowerCase().endsWith(extension.toLowerCase())) clean += extension;
  if (clean.length > MAX_NAME_LENGTH) {
    const [stem, ext] = splitExtension(clean);
    clean = stem.slice(0, MAX_NAME_LENGTH - ext.length).trimEnd() + ext;
  }
  return clean === extension ? `scan${extension}` : clean;
}
