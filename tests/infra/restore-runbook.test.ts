import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The Cosmos DB restore runbook (docs/operations.md, "Backup and restore") is walked command by
 * command against the real Azure CLI: every `az …` in its bash blocks must be a command of the
 * installed CLI, and every `--option` it passes must be one of that command's arguments, read
 * from `az <command> --help`. The help works offline, so no Azure sign-in is needed. CI installs
 * Debian's `azure-cli` when `az` is missing (.ci/run).
 */
const RUNBOOK = 'docs/operations.md';
const SECTION = '## Backup and restore';

/**
 * Options the runbook uses that the CLI here (Debian's azure-cli 2.45) does not have yet. Each
 * is named in the runbook with the version it needs; the test checks that too.
 */
const NEWER_THAN_INSTALLED: Record<string, { option: string; since: string; why: string }[]> = {
  'cosmosdb restore': [
    {
      option: '--disable-ttl',
      since: '2.65.0',
      why: 'added in Azure CLI 2.65.0; used only for an investigation copy that keeps items past their TTL',
    },
  ],
};

/** The order of the runbook: find → restore → role → setting → Key Vault reference refresh → restart → verify. */
const ORDER = [
  'cosmosdb restorable-database-account list',
  'cosmosdb restore',
  'cosmosdb sql role assignment create',
  'functionapp config appsettings set',
  'rest',
  'functionapp restart',
  'functionapp config appsettings list',
];

interface AzCall {
  command: string;
  options: string[];
  source: string;
}

function runbookSection(markdown: string): string {
  const start = markdown.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`${RUNBOOK} has no "${SECTION}" section`);
  const end = markdown.indexOf('\n## ', start + SECTION.length + 2);
  return markdown.slice(start, end < 0 ? undefined : end);
}

function bashBlocks(section: string): string[] {
  return [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * Splits a line of shell into simple commands: command substitutions `$(…)` become commands of
 * their own (in the order they start), pipes and `&&`, `||`, `;` separate commands, quotes are
 * honoured and comments dropped. Enough shell for a runbook, not a shell.
 */
function simpleCommands(script: string): string[][] {
  const found: { at: number; words: string[] }[] = [];
  const parse = (text: string, offset: number): void => {
    let words: string[] = [];
    let word: string | undefined;
    let startedAt = offset;
    const endWord = () => {
      if (word !== undefined) words.push(word);
      word = undefined;
    };
    const endCommand = () => {
      endWord();
      if (words.length > 0) found.push({ at: startedAt, words });
      words = [];
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (words.length === 0 && word === undefined) startedAt = offset + i;
      if (c === '\\' && text[i + 1] === '\n') {
        i++;
        endWord();
      } else if (c === "'") {
        const close = text.indexOf("'", i + 1);
        word = (word ?? '') + text.slice(i + 1, close);
        i = close;
      } else if (c === '"' || (c === '$' && text[i + 1] === '(')) {
        // A double-quoted string or a command substitution: substitutions inside are parsed on their own.
        const isSubstitution = c === '$';
        let j = isSubstitution ? i + 2 : i + 1;
        let depth = 1;
        let literal = '';
        while (j < text.length) {
          if (text[j] === '\\') {
            literal += text[j + 1];
            j += 2;
            continue;
          }
          if (text[j] === '$' && text[j + 1] === '(') {
            const inner = matchingParen(text, j + 1);
            parse(text.slice(j + 2, inner), offset + j + 2);
            literal += '$(…)';
            j = inner + 1;
            continue;
          }
          if (isSubstitution && text[j] === "'") {
            const close = text.indexOf("'", j + 1);
            literal += text.slice(j, close + 1);
            j = close + 1;
            continue;
          }
          if (isSubstitution && text[j] === '"') {
            const close = closingQuote(text, j);
            literal += text.slice(j, close + 1);
            j = close + 1;
            continue;
          }
          if (isSubstitution && text[j] === '(') depth++;
          if (isSubstitution && text[j] === ')' && --depth === 0) break;
          if (!isSubstitution && text[j] === '"') break;
          literal += text[j];
          j++;
        }
        if (isSubstitution) {
          parse(text.slice(i + 2, j), offset + i + 2);
          word = (word ?? '') + '$(…)';
        } else {
          word = (word ?? '') + literal;
        }
        i = j;
      } else if (c === '#' && word === undefined) {
        const newline = text.indexOf('\n', i);
        i = newline < 0 ? text.length : newline - 1;
      } else if (c === '\n' || c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
        endCommand();
      } else if (c === ' ' || c === '\t') {
        endWord();
      } else {
        word = (word ?? '') + c;
      }
    }
    endCommand();
  };
  parse(script, 0);
  return found.sort((a, b) => a.at - b.at).map((f) => f.words);
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "'") i = text.indexOf("'", i + 1);
    else if (text[i] === '"') i = closingQuote(text, i);
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced $( in: ${text}`);
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '$' && text[i + 1] === '(') i = matchingParen(text, i + 1);
    else if (text[i] === '"') return i;
  }
  throw new Error(`unbalanced " in: ${text}`);
}

/** `az` calls of a script, in order: the command's words up to the first option, and the long options. */
function azCalls(script: string): AzCall[] {
  return (
    simpleCommands(script)
      // Leading `name=value` words are assignments, not the command.
      .map((words) => words.filter((_, i) => !words.slice(0, i + 1).every((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w))))
      .filter((words) => words[0] === 'az')
      .map((words) => {
        const rest = words.slice(1);
        const firstOption = rest.findIndex((w) => w.startsWith('-'));
        const path = firstOption < 0 ? rest : rest.slice(0, firstOption);
        return {
          command: path.join(' '),
          options: rest.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]!),
          source: words.join(' '),
        };
      })
  );
}

/** The argument names (`--name`, `--resource-group`, …) a command's help lists, or why it has none. */
function helpArguments(help: string): Set<string> {
  const names = new Set<string>();
  for (const line of help.split('\n')) {
    // Argument lines start with four spaces and a dash; descriptions continue further right.
    const m = /^ {4}(-[^:]*?)\s*(?:\[[^\]]*\]\s*)*:/.exec(line);
    if (!m) continue;
    for (const token of m[1]!.split(/\s+/)) if (token.startsWith('--')) names.add(token);
  }
  return names;
}

const run = promisify(execFile);
async function azHelp(command: string): Promise<{ ok: boolean; text: string }> {
  try {
    const { stdout } = await run('az', [...command.split(' '), '--help'], {
      env: { ...process.env, AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_NO_COLOR: 'true' },
      maxBuffer: 4 * 1024 * 1024,
    });
    return { ok: true, text: stdout };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') return { ok: false, text: 'az is not installed: apt-get install azure-cli (docs/testing.md)' };
    return { ok: false, text: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * Runs the help calls a few at a time (each starts a Python process, about a second) and keeps
 * the answers in a temporary folder per CLI version, so a second run reads them back.
 */
async function helpFor(commands: string[]): Promise<Map<string, { ok: boolean; text: string }>> {
  const results = new Map<string, { ok: boolean; text: string }>();
  const version = await run('az', ['version', '--query', '"azure-cli"', '--output', 'tsv']).then(
    ({ stdout }) => stdout.trim(),
    () => undefined,
  );
  const cache = version === undefined ? undefined : join(tmpdir(), `roger-az-help-${version}`);
  if (cache) mkdirSync(cache, { recursive: true });
  const queue = [...commands];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let command = queue.shift(); command !== undefined; command = queue.shift()) {
        const file = cache && join(cache, `${command.replaceAll(' ', '_')}.txt`);
        if (file && existsSync(file)) {
          results.set(command, { ok: true, text: readFileSync(file, 'utf8') });
          continue;
        }
        const answer = await azHelp(command);
        if (file && answer.ok) writeFileSync(file, answer.text);
        results.set(command, answer);
      }
    }),
  );
  return results;
}

describe('the shell reading of the runbook', () => {
  it('finds az calls inside substitutions, pipes and continuation lines, in order', () => {
    const calls = azCalls(
      [
        'x=$(az identity show --name "a b" --query principalId --output tsv)',
        'az cosmosdb restore --resource-group "$g" \\',
        '  --restore-timestamp "$(date -u)" --location "$l" | jq . # a comment with --not-an-option',
        'echo "$(az account show --query "[?a == \'--no\'] | [0]")" && az functionapp restart --name x',
      ].join('\n'),
    );
    expect(calls.map((c) => [c.command, c.options])).toEqual([
      ['identity show', ['--name', '--query', '--output']],
      ['cosmosdb restore', ['--resource-group', '--restore-timestamp', '--location']],
      ['account show', ['--query']],
      ['functionapp restart', ['--name']],
    ]);
  });

  it('reads argument names from help text, several per line, with their tags', () => {
    const names = helpArguments(
      [
        'Arguments',
        '    --account-name -a                 [Required] : Name of the source account.',
        '    --analytical-storage-schema-type --as-schema : Schema type.',
        '    --default-identity                 [Preview] : The primary identity.',
        '                                                   --databases-to-restore name=x (usage, not an argument)',
        'Global Arguments',
        '    --query                                      : JMESPath query string.',
      ].join('\n'),
    );
    expect([...names]).toEqual(['--account-name', '--analytical-storage-schema-type', '--as-schema', '--default-identity', '--query']);
  });
});

describe('the restore runbook against the installed Azure CLI', () => {
  const section = runbookSection(readFileSync(RUNBOOK, 'utf8'));
  const calls = bashBlocks(section).flatMap(azCalls);
  const commands = [...new Set(calls.map((c) => c.command))];
  let help: Map<string, { ok: boolean; text: string }>;

  beforeAll(async () => {
    help = await helpFor(commands);
  }, 120_000);

  it('has the steps in order: find the restorable account, restore, role assignment, app setting, refresh, restart, verify', () => {
    const positions = ORDER.map((command) => calls.findIndex((c) => c.command === command));
    expect(
      positions.every((p) => p >= 0),
      `missing: ${ORDER.filter((_, i) => positions[i]! < 0).join(', ')}`,
    ).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // The restore comes after the latest backup time was read, and the new account is checked before the app uses it.
    const index = (command: string) => calls.findIndex((c) => c.command === command);
    expect(index('cosmosdb sql retrieve-latest-backup-time')).toBeLessThan(index('cosmosdb restore'));
    expect(calls.findLastIndex((c) => c.command === 'cosmosdb restore')).toBeLessThan(index('cosmosdb sql container list'));
    expect(index('cosmosdb sql container list')).toBeLessThan(index('cosmosdb sql role assignment create'));
  });

  it('uses the role the templates grant, on the database, for the app identity', () => {
    const bicep = readFileSync('infra/roles.bicep', 'utf8');
    const roleId = /cosmosDataContributor: '([0-9a-f-]+)'/.exec(bicep)![1]!;
    const assignment = calls.find((c) => c.command === 'cosmosdb sql role assignment create')!;
    expect(assignment.source).toContain(`--role-definition-id ${roleId}`);
    expect(assignment.source).toContain('--scope /dbs/roger');
    expect(calls.find((c) => c.command === 'functionapp config appsettings set')!.source).toContain('COSMOS_ENDPOINT=');
  });

  it('runs only commands the Azure CLI has', () => {
    expect(commands.length).toBeGreaterThan(10);
    const missing = commands.filter((command) => {
      const { ok, text } = help.get(command)!;
      // A group answers its help too; a command's help starts with "Command".
      return !ok || !new RegExp(`^Command\\n\\s+az ${command} :`, 'm').test(text);
    });
    expect(missing, missing.map((m) => `az ${m}: ${help.get(m)!.text.split('\n').slice(0, 3).join(' ')}`).join('\n')).toEqual([]);
  });

  it('passes only options those commands take, or a named exception for a newer CLI', () => {
    const unknown: string[] = [];
    for (const call of calls) {
      const known = helpArguments(help.get(call.command)!.text);
      for (const option of call.options) {
        if (known.has(option)) continue;
        const exception = NEWER_THAN_INSTALLED[call.command]?.find((e) => e.option === option);
        if (exception) {
          // The runbook tells the reader which version the option needs.
          expect(section.replace(/\s+/g, ' '), exception.why).toContain(`Azure CLI ${exception.since}`);
          continue;
        }
        unknown.push(`az ${call.command} ${option}   (in: ${call.source})`);
      }
    }
    expect(unknown, unknown.join('\n')).toEqual([]);
  });

  it('names each exception for a newer CLI where the runbook uses it', () => {
    for (const [command, exceptions] of Object.entries(NEWER_THAN_INSTALLED)) {
      for (const exception of exceptions) {
        expect(
          calls.some((c) => c.command === command && c.options.includes(exception.option)),
          `${command} ${exception.option} is listed as an exception but the runbook no longer uses it`,
        ).toBe(true);
      }
    }
  });
});
