import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import ts from 'typescript';

/**
 * Every import in the repository's source, as edges between files: static imports and
 * re-exports, `import type`, and dynamic `import(...)` (a lazily loaded module is still a
 * dependency). Read with the TypeScript scanner, so imports in comments and strings do not count.
 * Rules over these edges live in import-direction.test.ts, one `it` each.
 */
export interface ImportEdge {
  /** The importing file, relative to the repository root (`shared/services.ts`). */
  readonly from: string;
  readonly line: number;
  /** As written: `../store/store.js`, `@azure/cosmos`, `node:fs`. */
  readonly specifier: string;
  /**
   * Where it leads, relative to the root, for files of the repository: a relative specifier
   * resolved (`shared/store/store.js`), or a workspace package's folder (`tools/service-bus`).
   * Undefined for packages from node_modules and Node's built-ins.
   */
  readonly target?: string;
  /** The package name, for a bare specifier (`@azure/cosmos`, `node:fs`); undefined for relative ones. */
  readonly packageName?: string;
}

const SOURCE = /\.(?:ts|mts|mjs|js)$/;

/** The workspaces of the root package.json: package name → folder. */
export function workspaces(): Map<string, string> {
  const root = JSON.parse(readFileSync('package.json', 'utf8')) as { workspaces?: string[] };
  return new Map(
    (root.workspaces ?? []).map((folder) => [
      (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name: string }).name,
      folder,
    ]),
  );
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => posix.join(entry.parentPath.split('\\').join('/'), entry.name))
    .filter((file) => !file.split('/').includes('node_modules'));
}

/** The imports of every source file under `dirs` (relative to the repository root). */
export function importsUnder(...dirs: string[]): ImportEdge[] {
  const packages = workspaces();
  const edges: ImportEdge[] = [];
  for (const file of dirs.flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    for (const { fileName: specifier, pos } of ts.preProcessFile(text, true, true).importedFiles) {
      const line = text.slice(0, pos).split('\n').length;
      if (specifier.startsWith('.')) {
        edges.push({ from: file, line, specifier, target: posix.normalize(posix.join(dirname(file), specifier)) });
        continue;
      }
      const packageName = packageNameOf(specifier);
      const workspace = packages.get(packageName);
      edges.push({ from: file, line, specifier, packageName, ...(workspace ? { target: workspace } : {}) });
    }
  }
  return edges;
}

/** `file:line imports specifier`, for a failure message that points at the line to change. */
export const describeEdge = (edge: ImportEdge) => `${edge.from}:${edge.line} imports ${edge.specifier}`;

/** Whether `path` is `folder` or lies inside it. */
export const isWithin = (path: string | undefined, folder: string) =>
  path !== undefined && (path === folder || path.startsWith(`${folder}/`));
