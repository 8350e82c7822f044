import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEdge, importsUnder, isWithin, workspaces } from './import-graph.js';

/**
 * Dependencies point one way: hosts (tools/, tests/) → functions/ → shared/<domain> →
 * shared/store. Each rule is one `it` over the edges of the import graph; a failure lists every
 * offending `file:line`.
 */
describe('import direction', () => {
  it('the walker sees static and dynamic imports', () => {
    const targets = importsUnder('functions', 'shared').map((edge) => `${edge.from} → ${edge.target}`);
    expect(targets).toContain('functions/index.ts → shared/services.js');
    // Loaded with import(...) so that the Functions entry starts without the Graph SDK.
    expect(targets).toContain('shared/azure-adapters.ts → shared/onedrive/onedrive.js');
  });

  it('functions/ and shared/ import nothing from tools/: hosts pass the stand-ins in', () => {
    const offending = importsUnder('functions', 'shared').filter((edge) => isWithin(edge.target, 'tools'));
    expect(offending.map(describeEdge)).toEqual([]);
  });

  /*
   * Domain code says what went wrong in the domain's words (shared/errors.ts) and never how an
   * HTTP answer looks: shared/http/ renders errors, reads requests and guards routes, and only
   * functions/ and the hosts build on it. Every other folder of shared/ is held to this,
   * including two that sit next to the HTTP layer:
   *  - shared/auth turns a token into a caller; the HTTP wrapper passes it the headers, and
   *    another door (a queue trigger) could pass it a token as well;
   *  - shared/web is the HTML of the pages a browser sees. The HTML error renderer in shared/http
   *    draws its pages with it, so it must not import shared/http back: the edge runs one way.
   */
  it('no module of shared/ outside shared/http/ imports shared/http/: the domain throws, the HTTP layer renders', () => {
    const offending = importsUnder('shared').filter((edge) => !isWithin(edge.from, 'shared/http') && isWithin(edge.target, 'shared/http'));
    expect(offending.map(describeEdge)).toEqual([]);
  });

  /*
   * The stand-ins, the web app and the reference clients (clients/*) use only their own files,
   * Node and the packages they declare: the clients reach Roger through its public HTTP and AMQP
   * interfaces alone, as a third party would. A client's tests (clients/<name>/test) are the
   * repository's tests and may use tests/helpers to start a host.
   */
  it('the workspaces import nothing of the app: only their own files, Node and their declared packages', () => {
    const offending = [...workspaces().values()].flatMap((folder) => {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]);
      const shipped = folder.startsWith('clients/')
        ? importsUnder(folder).filter((edge) => !isWithin(edge.from, `${folder}/test`))
        : importsUnder(folder);
      return shipped.filter((edge) =>
        edge.packageName === undefined
          ? !isWithin(edge.target, folder)
          : !edge.packageName.startsWith('node:') && !declared.has(edge.packageName),
      );
    });
    expect(offending.map(describeEdge)).toEqual([]);
  });
});
