import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Person } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';

/**
 * What the roger tests share: the built program run as a person runs it (a child process with its
 * own config folder), and a browser played with fetch through the sign-in page, as
 * tests/e2e/authorization-code.test.ts does.
 */
export const rogerBin = fileURLToPath(new URL('../bin/roger.js', import.meta.url));

export interface Roger {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout + stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit code. */
  readonly exited: Promise<number>;
}

/** A folder for one test's roger config (the token file goes in a `roger` folder roger creates inside it). */
export async function configHome(): Promise<{ dir: string; remove(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'roger-test-'));
  return { dir: join(home, 'roger'), remove: () => rm(home, { recursive: true, force: true }) };
}

export function startRoger(args: readonly string[], configDir: string, env: Record<string, string> = {}): Roger {
  return startProgram(process.execPath, [rogerBin, ...args], { ...env, ROGER_CONFIG_DIR: configDir });
}

/** Any program with a small, fixed environment (UTC, so times are predictable), its output collected. */
export function startProgram(command: string, args: readonly string[], env: Record<string, string>): Roger {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TZ: 'UTC', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const changed = () => waiters.splice(0).forEach((wake) => wake());
  child.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), changed()));
  child.stderr!.on('data', (chunk: Buffer) => ((err += chunk.toString()), changed()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => (changed(), resolve(code ?? -1))));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(pattern, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const match = (out + err).match(pattern);
        if (match) return match;
        if (done) throw new Error(`roger exited without ${pattern}:\n${out}\n${err}`);
        if (Date.now() > until) throw new Error(`no ${pattern} from roger within ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

/** Runs roger to its end: exit code and output. */
export async function runRoger(args: readonly string[], configDir: string, env: Record<string, string> = {}) {
  const roger = startRoger(args, configDir, env);
  const code = await roger.exited;
  return { code, stdout: roger.stdout(), stderr: roger.stderr() };
}

/** The address `roger login --no-browser` asks the person to open. */
export async function authorizationUrl(roger: Roger): Promise<URL> {
  const [line] = await roger.waitFor(/http\S+\/oauth\/authorize\?\S+/);
  return new URL(line);
}

/**
 * A browser without JavaScript through the sign-in page (organization, then username and
 * password): the redirect it is sent to, where the browser would go next.
 */
export async function signInThroughPage(authorize: URL, tenant: string, person: Person): Promise<URL> {
  const cookies = new Map<string, string>();
  const send = async (url: string, form?: Record<string, string>) => {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return { status: response.status, location: response.headers.get('location'), html: await response.text() };
  };
  const hidden = (html: string, name: string) => {
    const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
    if (!match) throw new Error(`no hidden ${name} in the page`);
    return match[1]!.replace(/&amp;/g, '&');
  };
  const start = await send(authorize.href);
  expect(start.status, start.html).toBe(200);
  const methods = await send(`${authorize.origin}/oauth/authorize`, {
    csrf: hidden(start.html, 'csrf'),
    ticket: hidden(start.html, 'ticket'),
    account: tenant,
  });
  expect(methods.status, methods.html).toBe(200);
  const done = await send(`${authorize.origin}/oauth/authorize/password`, {
    csrf: hidden(methods.html, 'csrf'),
    ticket: hidden(methods.html, 'ticket'),
    username: person.username,
    password: person.password,
  });
  expect(done.status, done.html).toBe(303);
  return new URL(done.location!);
}

/** `roger login --no-browser` through the sign-in page, to its end: roger's output. */
export async function loginThroughBrowser(host: TestHost, configDir: string, tenant: string, person: Person) {
  const roger = startRoger(['login', '--api', host.url, '--no-browser'], configDir);
  const callback = await signInThroughPage(await authorizationUrl(roger), tenant, person);
  const landed = await fetch(callback);
  expect(landed.status).toBe(200);
  const code = await roger.exited;
  expect(code, roger.stderr()).toBe(0);
  return { stdout: roger.stdout(), stderr: roger.stderr(), page: await landed.text() };
}
