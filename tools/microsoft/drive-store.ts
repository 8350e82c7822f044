/**
 * One account's OneDrive in memory: a tree of folders and files with OneDrive's naming rules
 * (names unique within a folder regardless of case, "report 1.pdf" on rename) and the driveItem
 * resource Graph returns for each item.
 */
import { randomBytes } from 'node:crypto';

export type ConflictBehavior = 'fail' | 'rename' | 'replace';

export function isConflictBehavior(value: unknown): value is ConflictBehavior {
  return value === 'fail' || value === 'rename' || value === 'replace';
}

interface ItemBase {
  readonly id: string;
  /** Changed by a move (PATCH with another parent or name). */
  name: string;
  parentId: string | undefined;
  readonly createdMs: number;
  modifiedMs: number;
}

export interface FolderItem extends ItemBase {
  readonly kind: 'folder';
  /** Lower-cased name → item id: OneDrive names are unique within a folder regardless of case. */
  readonly children: Map<string, string>;
}

export interface FileItem extends ItemBase {
  readonly kind: 'file';
  bytes: Buffer;
}

export type DriveItem = FolderItem | FileItem;

/** Placing an item under a name that is taken, with conflict behaviour `fail` (or an unreplaceable item). */
export class NameConflictError extends Error {}

/** A move OneDrive refuses whatever the names: the root, or a folder into itself. */
export class MoveRefusedError extends Error {}

/** An item in the recycle bin: what it was called and the path of the folder it was deleted from ('' for the root). */
export interface RecycledItem {
  readonly id: string;
  readonly name: string;
  readonly deletedFrom: string;
  readonly deletedMs: number;
}

/** A created item, or the existing one that `replace` kept (Graph answers 200 instead of 201). */
export interface Placed<T extends DriveItem> {
  readonly item: T;
  readonly created: boolean;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Shaped like Graph ids (uppercase base32), with a prefix that makes local ids obvious in logs. */
function newItemId(): string {
  return 'LOCAL' + Array.from(randomBytes(28), (byte) => BASE32[byte & 31]).join('');
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  zip: 'application/zip',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function mimeTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 && MIME_TYPES[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}

/** Why OneDrive would refuse this item name, or undefined when it is acceptable. */
export function invalidNameReason(name: string): string | undefined {
  if (name.trim() === '' || name === '.' || name === '..') return 'The name must not be empty, "." or "..".';
  if (/[\\/:*?"<>|]/.test(name)) return `The name "${name}" contains a character OneDrive does not allow (\\ / : * ? " < > |).`;
  if (name.length > 255) return 'The name is longer than 255 characters.';
  return undefined;
}

/** Graph timestamps are second-precision UTC. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const key = (name: string): string => name.toLowerCase();

export class Drive {
  readonly id = 'b!' + randomBytes(48).toString('base64url');
  readonly root: FolderItem;
  readonly #items = new Map<string, DriveItem>();
  /** What Graph deleted, oldest first: OneDrive's recycle bin, for tests to look into. */
  readonly recycleBin: RecycledItem[] = [];

  constructor(nowMs: number) {
    this.root = {
      kind: 'folder',
      id: newItemId(),
      name: 'root',
      parentId: undefined,
      createdMs: nowMs,
      modifiedMs: nowMs,
      children: new Map(),
    };
    this.#items.set(this.root.id, this.root);
  }

  /** An item by id; Graph also accepts the alias `root`. */
  get(id: string): DriveItem | undefined {
    return id === 'root' ? this.root : this.#items.get(id);
  }

  child(folder: FolderItem, name: string): DriveItem | undefined {
    const id = folder.children.get(key(name));
    return id === undefined ? undefined : this.#items.get(id);
  }

  /** Ordered by lower-cased name: a strict order, so a name can serve as the paging cursor. */
  children(folder: FolderItem): DriveItem[] {
    return [...folder.children]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, id]) => this.#items.get(id))
      .filter((item): item is DriveItem => item !== undefined);
  }

  /** The item at `segments` below `from` (names matched regardless of case), if any. */
  resolve(from: DriveItem, segments: readonly string[]): DriveItem | undefined {
    let item: DriveItem | undefined = from;
    for (const segment of segments) {
      if (item?.kind !== 'folder') return undefined;
      item = this.child(item, segment);
    }
    return item;
  }

  /** Creates the folders along `segments` that do not exist yet (test setup). */
  ensureFolders(segments: readonly string[], nowMs: number): FolderItem {
    let folder = this.root;
    for (const segment of segments) {
      folder = this.createFolder(folder, segment, 'replace', nowMs).item;
    }
    return folder;
  }

  /** Takes an item (and everything below it) out of the drive: the user moved or deleted it (test setup). */
  remove(item: DriveItem): void {
    if (item === this.root) throw new Error('The drive root cannot be removed.');
    if (item.kind === 'folder') for (const child of this.children(item)) this.remove(child);
    this.#items.delete(item.id);
    const parent = item.parentId === undefined ? undefined : this.#items.get(item.parentId);
    if (parent?.kind === 'folder') parent.children.delete(key(item.name));
  }

  /**
   * Deleting through Graph: the item (and everything below it) leaves the tree for the recycle
   * bin, where OneDrive keeps it for the user to restore; Graph no longer finds it by id.
   */
  recycle(item: DriveItem, nowMs: number): void {
    if (item === this.root) throw new Error('The drive root cannot be deleted.');
    const deletedFrom = this.#pathOf(item).replace(/\/[^/]*$/, '');
    this.remove(item);
    this.recycleBin.push({ id: item.id, name: item.name, deletedFrom, deletedMs: nowMs });
  }

  /**
   * Moves `item` into `parent`, under `name` (its own unless given). A name taken there follows
   * `behavior`: `fail` throws, `rename` numbers it ("report 1.pdf"), `replace` recycles the file
   * that held it (never a folder). Moving an item where it already is, under its own name, changes nothing.
   */
  move(item: DriveItem, parent: FolderItem, name: string, behavior: ConflictBehavior, nowMs: number): DriveItem {
    if (item === this.root) throw new MoveRefusedError('The drive root cannot be moved.');
    for (let at: DriveItem | undefined = parent; at; at = at.parentId === undefined ? undefined : this.#items.get(at.parentId)) {
      if (at === item) throw new MoveRefusedError('A folder cannot be moved into itself or below itself.');
    }
    const holder = this.child(parent, name);
    if (holder === item) return item;
    let finalName = name;
    if (holder && behavior === 'fail') throw new NameConflictError(`An item named "${holder.name}" already exists in this folder.`);
    if (holder && behavior === 'replace') {
      if (holder.kind === 'folder') throw new NameConflictError(`A folder named "${holder.name}" already exists.`);
      this.recycle(holder, nowMs);
    }
    if (holder && behavior === 'rename') finalName = this.#freeName(parent, name, item.kind === 'file');
    const from = item.parentId === undefined ? undefined : this.#items.get(item.parentId);
    if (from?.kind === 'folder') {
      from.children.delete(key(item.name));
      from.modifiedMs = nowMs;
    }
    item.name = finalName;
    item.parentId = parent.id;
    item.modifiedMs = nowMs;
    return this.#add(parent, item);
  }

  /** `replace` on an existing folder keeps it and its contents, as OneDrive does. */
  createFolder(parent: FolderItem, name: string, behavior: ConflictBehavior, nowMs: number): Placed<FolderItem> {
    const existing = this.#existing(parent, name, behavior);
    if (existing?.kind === 'folder') return { item: existing, created: false };
    if (existing) throw new NameConflictError(`A file named "${existing.name}" already exists.`);
    const finalName = behavior === 'rename' ? this.#freeName(parent, name, false) : name;
    return { item: this.#add(parent, { kind: 'folder', ...this.#base(parent, finalName, nowMs), children: new Map() }), created: true };
  }

  /** `replace` on an existing file overwrites its content and keeps its id (a new version in OneDrive). */
  writeFile(parent: FolderItem, name: string, bytes: Buffer, behavior: ConflictBehavior, nowMs: number): Placed<FileItem> {
    const existing = this.#existing(parent, name, behavior);
    if (existing?.kind === 'file') {
      existing.bytes = bytes;
      existing.modifiedMs = nowMs;
      return { item: existing, created: false };
    }
    if (existing) throw new NameConflictError(`A folder named "${existing.name}" already exists.`);
    const finalName = behavior === 'rename' ? this.#freeName(parent, name, true) : name;
    return { item: this.#add(parent, { kind: 'file', ...this.#base(parent, finalName, nowMs), bytes }), created: true };
  }

  /** The driveItem resource as Graph v1.0 returns it. */
  resource(item: DriveItem): Record<string, unknown> {
    const facet = item.kind === 'folder' ? { folder: { childCount: item.children.size } } : { file: { mimeType: mimeTypeOf(item.name) } };
    return {
      id: item.id,
      name: item.name,
      size: this.#size(item),
      createdDateTime: graphTime(item.createdMs),
      lastModifiedDateTime: graphTime(item.modifiedMs),
      parentReference: this.#parentReference(item),
      ...facet,
      ...(item === this.root ? { root: {} } : {}),
    };
  }

  #parentReference(item: DriveItem): Record<string, string> {
    const reference = { driveId: this.id, driveType: 'business' };
    const parent = item.parentId === undefined ? undefined : this.#items.get(item.parentId);
    return parent ? { ...reference, id: parent.id, path: `/drive/root:${this.#pathOf(parent)}` } : reference;
  }

  /** '' for the root, '/Print/2024' below it. */
  #pathOf(item: DriveItem): string {
    const parent = item.parentId === undefined ? undefined : this.#items.get(item.parentId);
    return parent ? `${this.#pathOf(parent)}/${item.name}` : '';
  }

  /** OneDrive reports a folder's size as the total of its contents. */
  #size(item: DriveItem): number {
    if (item.kind === 'file') return item.bytes.length;
    return this.children(item).reduce((total, child) => total + this.#size(child), 0);
  }

  /** The item that holds `name` when the behaviour is `replace`; throws for `fail`. */
  #existing(parent: FolderItem, name: string, behavior: ConflictBehavior): DriveItem | undefined {
    const existing = this.child(parent, name);
    if (!existing || behavior === 'rename') return undefined;
    if (behavior === 'fail') throw new NameConflictError(`An item named "${existing.name}" already exists in this folder.`);
    return existing;
  }

  /** "report.pdf" → "report 1.pdf", "report 2.pdf"…; folders keep dots in the counted stem. */
  #freeName(parent: FolderItem, name: string, splitExtension: boolean): string {
    if (!this.child(parent, name)) return name;
    const dot = splitExtension ? name.lastIndexOf('.') : -1;
    const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let n = 1;
    while (this.child(parent, `${stem} ${n}${extension}`)) n += 1;
    return `${stem} ${n}${extension}`;
  }

  #base(parent: FolderItem, name: string, nowMs: number): ItemBase {
    return { id: newItemId(), name, parentId: parent.id, createdMs: nowMs, modifiedMs: nowMs };
  }

  #add<T extends DriveItem>(parent: FolderItem, item: T): T {
    this.#items.set(item.id, item);
    parent.children.set(key(item.name), item.id);
    parent.modifiedMs = item.modifiedMs;
    return item;
  }
}
