import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { objectEntries, readInfra } from './bicep-source.js';

/**
 * The GitHub Actions pipeline (.github/workflows): valid for GitHub's own workflow parser, and
 * in the order the issue asks for — build → test → Bicep build/lint → what-if (pull requests)
 * → deploy global → each region (infrastructure, secrets, publish, smoke test) on main.
 */
const PIPELINE = '.github/workflows/pipeline.yml';
const REGION = '.github/workflows/deploy-region.yml';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  uses?: string;
  with?: Record<string, string>;
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(file, 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;
const needs = (job: Job) => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));
const stepIndex = (job: Job, match: (step: Step) => boolean) => job.steps!.findIndex(match);
const regions = (JSON.parse(readInfra('regions.json')) as { id: string }[]).map((r) => r.id);

describe('deployment pipeline', () => {
  it("both workflows are valid for GitHub's workflow parser", () => {
    for (const file of [PIPELINE, REGION]) {
      const result = parseWorkflow({ name: file, content: text(file) }, new NoOperationTraceWriter());
      expect(
        result.context.errors.getErrors().map((e) => e.message),
        file,
      ).toEqual([]);
      expect(result.value, file).toBeDefined();
    }
    // The parser does report mistakes (a misspelt key):
    const broken = parseWorkflow(
      { name: 'broken.yml', content: 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n' },
      new NoOperationTraceWriter(),
    );
    expect(broken.context.errors.getErrors().map((e) => e.message)).toContain("broken.yml (Line: 5, Col: 5): Unexpected value 'stepz'");
  });

  it('on pull requests and main: build, type-check and test through .ci/run, then package', () => {
    const { on, jobs } = workflow(PIPELINE);
    expect(Object.keys(on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    const build = jobs.build!;
    const ci = stepIndex(build, (s) => s.run === 'bash .ci/run');
    const pack = stepIndex(build, (s) => Boolean(s.run?.includes('npm run package')));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(pack).toBeGreaterThan(ci);
    expect(build.if).toBeUndefined();
  });

  it('compiles and lints with the pinned compiler (npm run infra:check), never one az installs', () => {
    for (const file of [PIPELINE, REGION]) expect(text(file), file).not.toMatch(/az bicep/);
    const bicep = workflow(PIPELINE).jobs.bicep!;
    const dotnet = stepIndex(bicep, (s) => s.uses === 'actions/setup-dotnet@v4');
    expect(dotnet).toBeGreaterThanOrEqual(0);
    expect(bicep.steps![dotnet]!.with).toEqual({ 'dotnet-version': '10.0.x' });
    expect(stepIndex(bicep, (s) => s.run === 'npm run infra:check')).toBeGreaterThan(dotnet);
  });

  it('every deployment and what-if deploys the JSON the pinned compiler built in that job', () => {
    let deployments = 0;
    for (const file of [PIPELINE, REGION]) {
      for (const [id, job] of Object.entries(workflow(file).jobs)) {
        const steps = job.steps ?? [];
        const deploy = steps.findIndex((s) => /az deployment group (create|what-if)/.test(s.run ?? ''));
        if (deploy < 0) continue;
        deployments += 1;
        const where = `${file} ${id}`;
        const run = steps[deploy]!.run!;
        expect(run, where).not.toMatch(/\.bicep(param)?\b/);
        const template = /--template-file "?(dist\/infra\/[^" ]+\.json)/.exec(run)?.[1];
        const parameters = /--parameters "?(dist\/infra\/[^" ]+\.parameters\.json)/.exec(run)?.[1];
        expect(template, where).toBeDefined();
        expect(parameters, where).toBeDefined();
        // Built earlier in the same job by the pinned compiler, into those very files.
        const compile = steps.findIndex((s) => Boolean(s.run?.includes('bicep=$(tools/bicep/bicep.sh)')));
        expect(compile, where).toBeGreaterThanOrEqual(0);
        expect(compile, where).toBeLessThan(deploy);
        const compiled = steps[compile]!.run!.split('\n');
        const writes = (command: string, out: string) =>
          compiled.some((line) => line.trim().startsWith(`"$bicep" ${command} `) && line.replace(/"/g, '').endsWith(`--outfile ${out}`));
        expect(writes('build', template!), `${where}: ${template}`).toBe(true);
        expect(writes('build-params', parameters!), `${where}: ${parameters}`).toBe(true);
        const dotnet = steps.findIndex((s) => s.uses === 'actions/setup-dotnet@v4' && s.with?.['dotnet-version'] === '10.0.x');
        expect(dotnet, where).toBeGreaterThanOrEqual(0);
        expect(dotnet, where).toBeLessThan(compile);
      }
    }
    expect(deployments).toBe(3); // what-if, global, region
  });

  it('runs what-if against global and every region on pull requests only, after build and lint', () => {
    const whatIf = workflow(PIPELINE).jobs['what-if']!;
    expect(whatIf.if).toContain("github.event_name == 'pull_request'");
    expect(needs(whatIf).sort()).toEqual(['bicep', 'build']);
    expect((whatIf as { strategy: { matrix: { target: string[] } } }).strategy.matrix.target).toEqual(['global', ...regions]);
    expect(whatIf.steps!.map((s) => s.run ?? '').join()).toContain('az deployment group what-if');
  });

  it('on main deploys global, then each region of regions.json in turn', () => {
    const { jobs } = workflow(PIPELINE);
    const global = jobs['deploy-global']!;
    expect(global.if).toContain("github.ref == 'refs/heads/main'");
    expect(needs(global).sort()).toEqual(['bicep', 'build']);
    expect(global.steps!.map((s) => s.run ?? '').join()).toContain('--parameters dist/infra/global.parameters.json');
    let previous = 'deploy-global';
    for (const region of regions) {
      const job = jobs[`deploy-${region}`];
      expect(job, `a deploy job for ${region}`).toBeDefined();
      expect(job!.uses).toBe('./.github/workflows/deploy-region.yml');
      expect(job!.with!.region).toBe(region);
      expect(needs(job!)).toContain(previous);
      previous = `deploy-${region}`;
    }
  });

  it('deploys a region as infrastructure, secrets, a refresh of the Key Vault references, the app, then the smoke test', () => {
    const deploy = workflow(REGION).jobs.deploy!;
    const order = [
      stepIndex(deploy, (s) =>
        Boolean(s.run?.includes('az deployment group create') && s.run.includes('dist/infra/$REGION.parameters.json')),
      ),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('node dist/tools/keys.js new'))),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('/config/configreferences/appsettings/refresh?api-version=2022-03-01'))),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('az functionapp deployment source config-zip'))),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('node dist/tools/smoke.js'))),
    ];
    expect(
      order.every((i) => i >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // A zip deploy does not make App Service read the references again: the refresh is an ARM POST on the site.
    expect(deploy.steps![order[2]!]!.run).toMatch(/az rest --method post[\s\S]*https:\/\/management\.azure\.com\$site\/config/);
    const smoke = deploy.steps![order[4]!]!.run!;
    expect(smoke).toContain('--api "${{ steps.infra.outputs.api-url }}"');
    expect(smoke).toContain('--discovery "${{ inputs.discovery-url }}"');
  });

  it('signs in to Azure with OpenID Connect only: the one stored secret is the Entra client secret, for Key Vault', () => {
    for (const file of [PIPELINE, REGION]) {
      expect(text(file), file).not.toMatch(/^\s*(creds|client-secret|publish-profile):/m);
      const secrets = [...text(file).matchAll(/\bsecrets\.(\w+)/g)].map((m) => m[1]);
      expect(secrets, file).toEqual(file === REGION ? ['ENTRA_CLIENT_SECRET'] : []);
      const { jobs, permissions } = workflow(file);
      for (const [id, job] of Object.entries(jobs)) {
        const login = job.steps?.find((s) => s.uses?.startsWith('azure/login@'));
        if (!login) continue;
        expect(login.with, `${file} ${id}`).toEqual({
          'client-id': '${{ vars.AZURE_CLIENT_ID }}',
          'tenant-id': '${{ vars.AZURE_TENANT_ID }}',
          'subscription-id': '${{ vars.AZURE_SUBSCRIPTION_ID }}',
        });
        expect({ ...permissions, ...job.permissions }['id-token'], `${file} ${id}`).toBe('write');
      }
    }
    expect(workflow(PIPELINE).permissions).toEqual({ contents: 'read' });
    // Handed to one step through its environment, never written into a script's text.
    const steps = workflow(REGION).jobs.deploy!.steps! as (Step & { env?: Record<string, string> })[];
    const holders = steps.filter((s) => JSON.stringify(s).includes('secrets.'));
    expect(holders.map((s) => s.name)).toEqual(['secrets in Key Vault']);
    expect(holders[0]!.env!.ENTRA_CLIENT_SECRET).toBe('${{ secrets.ENTRA_CLIENT_SECRET }}');
    expect(holders[0]!.run).not.toContain('secrets.');
  });

  it('every Key Vault secret the app references is written by Bicep, generated by the pipeline, or checked for', () => {
    const secretNames = objectEntries(readInfra('main.bicep'), 'secretNames').map((e) => e.value.replace(/'/g, ''));
    const writtenByBicep = readInfra('main.bicep').match(/listenKeySecretName: secretNames\.(\w+)/)![1]!;
    const region = text(REGION);
    for (const entry of objectEntries(readInfra('main.bicep'), 'secretNames')) {
      const name = entry.value.replace(/'/g, '');
      if (entry.key === writtenByBicep) continue;
      expect(region, name).toMatch(new RegExp(`ensure ${name} |grep -qx ${name} `));
    }
    expect(secretNames.length).toBe(6);
  });

  it('reads only outputs the templates declare', () => {
    const outputs = (file: string) => [...readInfra(file).matchAll(/^output (\w+) /gm)].map((m) => m[1]);
    expect(outputs('global.bicep')).toContain('discoveryUrl');
    for (const used of text(REGION).matchAll(/jq -r \.(\w+)\.value/g)) expect(outputs('main.bicep')).toContain(used[1]);
    expect(text(PIPELINE)).toContain('properties.outputs.discoveryUrl.value');
  });

  it('runs every script under bash with pipefail; the secrets step sets it itself too', () => {
    for (const file of [PIPELINE, REGION]) {
      expect((parse(text(file)) as { defaults?: unknown }).defaults, file).toEqual({ run: { shell: 'bash' } });
    }
    const secrets = workflow(REGION).jobs.deploy!.steps!.find((s) => s.name === 'secrets in Key Vault')!;
    expect(secrets.run!.split('\n')[0]).toBe('set -o pipefail');
  });

  describe('checks ROGER_NAME_PREFIX and ROGER_CUSTOM_DOMAIN before deploying anything', () => {
    const checks = [
      ['deploy-global', workflow(PIPELINE).jobs['deploy-global']!],
      ['deploy-region', workflow(REGION).jobs.deploy!],
    ] as const;
    const variables = {
      AZURE_CLIENT_ID: 'id',
      AZURE_TENANT_ID: 'tenant',
      AZURE_SUBSCRIPTION_ID: 'sub',
      ENTRA_CLIENT_ID: 'app',
      ALERT_EMAIL: 'oncall@contoso.example',
      ROGER_NAME_PREFIX: 'roger',
    };
    /** The step's own script, once per value of `variable`, each in a subshell of one bash (a process per value is slow on a busy machine). */
    const runCheck = (job: Job, prefixes: string[], variable = 'ROGER_NAME_PREFIX') => {
      const step = job.steps!.find((s) => s.name === 'check the repository variables')!;
      const driver = `for prefix in "$@"; do out=$(export ${variable}="$prefix"; set -e; ${step.run!.replace(/\n$/, '')}
); echo "$?|$prefix|\${out//$'\\n'/ }"; done`;
      const result = spawnSync('bash', ['-c', driver, 'check', ...prefixes], {
        env: { PATH: process.env.PATH, ...variables },
        encoding: 'utf8',
      });
      return result.stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [status, prefix, ...out] = line.split('|');
          return { prefix: prefix!, status: Number(status), out: out.join('|') };
        });
    };

    it.each(checks)('%s: the check comes before any Azure step', (_name, job) => {
      const check = stepIndex(job, (s) => s.name === 'check the repository variables');
      expect(check).toBeGreaterThanOrEqual(0);
      expect(check).toBeLessThan(stepIndex(job, (s) => Boolean(s.uses?.startsWith('azure/login@'))));
    });

    it.each(checks)('%s: accepts 2 to 12 lower-case letters, digits and hyphens starting with a letter', (_name, job) => {
      const good = ['ro', 'roger', 'contoso-prod', 'r0ger-2'];
      const bad = ['', 'r', 'Roger', '1roger', '-roger', 'rog_er', 'roger.cloud', 'roger-cloud-x', 'roger eu'];
      const results = runCheck(job, [...good, ...bad]);
      expect(results.map((r) => r.prefix)).toEqual([...good, ...bad]);
      for (const { prefix, status, out } of results) {
        expect(status, JSON.stringify(prefix)).toBe(good.includes(prefix) ? 0 : 1);
        if (bad.includes(prefix)) {
          expect(out, JSON.stringify(prefix)).toMatch(/::error::(set the repository variable ROGER_NAME_PREFIX|ROGER_NAME_PREFIX must be)/);
        }
      }
    });

    it.each(checks)('%s: accepts an unset custom domain or a lower-case domain, nothing that would fail halfway', (_name, job) => {
      const good = ['', 'contoso.com', 'roger.contoso.com', 'eu-1.roger.contoso.co.uk', 'xn--bcher-kva.example', `${'a'.repeat(63)}.com`];
      const bad = [
        'https://roger.contoso.com',
        'roger.contoso.com.',
        'Roger.Contoso.com',
        'roger.contoso.com/api',
        'roger.contoso.com:443',
        'localhost',
        '-roger.contoso.com',
        'roger-.contoso.com',
        'roger..contoso.com',
        'roger_eu.contoso.com',
        'roger.contoso.c0m',
        ' roger.contoso.com',
        `${'a'.repeat(64)}.com`,
        `${Array.from({ length: 4 }, () => 'a'.repeat(60)).join('.')}.com`, // 248 characters: discovery.<domain> would pass 253
      ];
      const results = runCheck(job, [...good, ...bad], 'ROGER_CUSTOM_DOMAIN');
      expect(results.map((r) => r.prefix)).toEqual([...good, ...bad]);
      for (const { prefix, status, out } of results) {
        expect(status, JSON.stringify(prefix)).toBe(good.includes(prefix) ? 0 : 1);
        if (bad.includes(prefix)) expect(out, JSON.stringify(prefix)).toMatch(/::error::ROGER_CUSTOM_DOMAIN must be/);
      }
    });
  });

  it('sets every variable the parameter files read, and checks for those without a default before deploying', () => {
    const read = readdirSync('infra')
      .filter((file) => file.endsWith('.bicepparam'))
      .flatMap((file) => [...readInfra(file).matchAll(/readEnvironmentVariable\('(\w+)'(, [^)]*)?\)/g)])
      .map((m) => ({ name: m[1]!, required: m[2] === undefined }));
    expect(read.map((r) => r.name)).toContain('ROGER_NAME_PREFIX');
    for (const file of [PIPELINE, REGION]) {
      const env = (parse(text(file)) as { env: Record<string, string> }).env;
      for (const { name } of read) expect(env[name], `${file}: ${name}`).toBe(`\${{ vars.${name} }}`);
    }
    const checks = [workflow(PIPELINE).jobs['deploy-global']!, workflow(REGION).jobs.deploy!].map(
      (job) => job.steps!.find((s) => s.name === 'check the repository variables')!.run!,
    );
    for (const { name, required } of read) {
      if (!required) continue;
      for (const check of checks) expect(check, name).toMatch(new RegExp(`for name in [^;]*\\b${name}\\b`));
    }
  });

  describe('the secrets step, run with stand-ins for az and node on its PATH', () => {
    const step = workflow(REGION).jobs.deploy!.steps!.find((s) => s.name === 'secrets in Key Vault')!;
    /** `az` records its arguments and keeps what `secret set` reads from stdin; `node` prints a generated value. */
    function runSecretsStep(existing: string[], entraSecret: string | undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'secrets-step-'));
      writeFileSync(
        join(dir, 'az'),
        [
          '#!/usr/bin/env bash',
          'printf "%s\\n" "$*" >> "$DIR/calls"',
          'if [ "$1 $2 $3" = "keyvault secret list" ]; then printf "%s\\n" $EXISTING; exit 0; fi',
          'if [ "$1 $2 $3" = "keyvault secret set" ]; then',
          '  while [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done',
          '  cat > "$DIR/stored-$name"; exit 0',
          'fi',
          'exit 1',
        ].join('\n'),
        { mode: 0o755 },
      );
      writeFileSync(join(dir, 'node'), '#!/usr/bin/env bash\necho "generated-$3"\n', { mode: 0o755 });
      const result = spawnSync('bash', ['-e', '-c', step.run!], {
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          DIR: dir,
          EXISTING: existing.join(' '),
          VAULT: 'rogereukv',
          REGION: 'eu',
          ...(entraSecret === undefined ? {} : { ENTRA_CLIENT_SECRET: entraSecret }),
        },
        encoding: 'utf8',
      });
      const files = new Map(
        readdirSync(dir)
          .filter((file) => file.startsWith('stored-'))
          .map((file) => [file.slice('stored-'.length), readFileSync(join(dir, file), 'utf8')]),
      );
      const stored = (name: string) => files.get(name);
      const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';
      rmSync(dir, { recursive: true });
      return { ...result, stored, calls };
    }

    it('a new vault: generates the keys and stores the Entra secret from the environment, never on a command line', () => {
      const secret = 'entra-secret-from-the-environment~0123';
      const run = runSecretsStep([], secret);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stored('roger-signing-keys')).toBe('generated-signing-keys\n');
      expect(run.stored('onedrive-token-keys')).toBe('generated-onedrive-token-keys\n');
      expect(run.stored('roger-lookup-keys')).toBe('generated-lookup-keys\n');
      expect(run.stored('roger-operator-key')).toBe('generated-operator-key\n');
      expect(run.stored('entra-client-secret')).toBe(secret);
      expect(run.calls).not.toContain(secret);
      expect(run.stdout).not.toContain(secret);
    });

    it('no Entra secret anywhere: the step goes on with a warning (the app starts with OneDrive off)', () => {
      const run = runSecretsStep([], '');
      expect(run.status, run.stderr).toBe(0);
      expect(run.stored('entra-client-secret')).toBeUndefined();
      expect(run.stdout).toContain('::warning::rogereukv has no entra-client-secret: OneDrive stays disabled in eu');
    });

    it('an existing vault: every secret kept, the Entra secret too', () => {
      const run = runSecretsStep(
        ['roger-signing-keys', 'onedrive-token-keys', 'roger-lookup-keys', 'roger-operator-key', 'entra-client-secret'],
        'a-newer-secret-0123',
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.calls).not.toContain('secret set');
      expect(run.stdout.split('\n').filter((line) => line.endsWith(': kept'))).toHaveLength(5);
    });
  });

  it('recovers a soft-deleted Key Vault of a re-created resource group', () => {
    const infra = workflow(REGION).jobs.deploy!.steps!.find((s) => s.name === 'deploy infra/main.bicep')!.run!;
    expect(infra).toContain('az keyvault list-deleted --resource-type vault');
    expect(infra).toContain('createMode=recover');
    expect(infra).toContain('--parameters keyVaultCreateMode="$createMode"');
    // The template takes exactly those two values.
    expect(readInfra('main.bicep')).toMatch(/@allowed\(\['default', 'recover'\]\)\s*\nparam keyVaultCreateMode string = 'default'/);
  });

  it('bounds the publish step, well inside the job, and still runs the smoke test after a failed publish', () => {
    const job = workflow(REGION).jobs.deploy! as Job & { 'timeout-minutes': number };
    const publish = job.steps!.find((s) => s.run?.includes('az functionapp deployment source config-zip')) as Step & { id?: string };
    const bound = /timeout --kill-after=\d+s (\d+)m az functionapp deployment source config-zip/.exec(publish.run!);
    expect(bound).not.toBeNull();
    expect(Number(bound![1])).toBeLessThanOrEqual(15);
    expect(Number(bound![1]) + 20).toBeLessThan(job['timeout-minutes']);
    expect(publish.run).toContain('--timeout 600');
    expect(publish.id).toBe('publish');
    const smoke = job.steps!.find((s) => s.run?.includes('node dist/tools/smoke.js')) as Step & { if?: string };
    expect(smoke.if).toBe("${{ !cancelled() && steps.publish.outcome != 'skipped' }}");
  });
  it('builds the web app once and each region uploads that build to its static website after the Function App, index.html last', () => {
    const build = workflow(PIPELINE).jobs.build!;
    const ci = stepIndex(build, (s) => s.run === 'bash .ci/run');
    const artifact = stepIndex(build, (s) => s.uses === 'actions/upload-artifact@v4' && s.with?.name === 'web');
    expect(artifact).toBeGreaterThan(ci);
    expect(build.steps![artifact]!.with).toMatchObject({ path: 'web/dist/', 'if-no-files-found': 'error' });
    // npm run build (in .ci/run) builds web/ into web/dist.
    expect(JSON.parse(text('package.json')).scripts.build).toBe('node tools/build.mjs');
    expect(text('tools/build.mjs')).toContain("await import('./build-web.mjs');");

    const deploy = workflow(REGION).jobs.deploy!;
    const download = stepIndex(deploy, (s) => s.uses === 'actions/download-artifact@v4' && s.with?.name === 'web');
    expect(download).toBeGreaterThanOrEqual(0);
    expect(deploy.steps![download]!.with!.path).toBe('web/dist');
    const publishApp = stepIndex(deploy, (s) => Boolean(s.run?.includes('az functionapp deployment source config-zip')));
    const publishWeb = stepIndex(deploy, (s) => s.name === 'publish the web app');
    const check = stepIndex(deploy, (s) => s.name === 'check the web app');
    const smoke = stepIndex(deploy, (s) => Boolean(s.run?.includes('node dist/tools/smoke.js')));
    expect([download, publishApp, publishWeb, check, smoke]).toEqual(
      [download, publishApp, publishWeb, check, smoke].sort((a, b) => a - b),
    );
    expect(download).toBeLessThan(publishWeb);

    const run = deploy.steps![publishWeb]!.run!;
    const env = (deploy.steps![publishWeb] as Step & { env: Record<string, string> }).env;
    expect(env.ACCOUNT).toBe('${{ steps.infra.outputs.web-account }}');
    expect(deploy.steps!.find((s) => s.name === 'deploy infra/main.bicep')!.run).toContain(
      'echo "web-account=$(jq -r .webStorageAccount.value outputs.json)"',
    );
    // Entra ID only (the account has no shared key), into the static website's container under app/.
    const commands = run.split('\n').filter((line) => /az storage blob/.test(line));
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const line of commands) expect(line, line).toContain('--auth-mode login');
    expect(run).not.toMatch(/--account-key|--sas-token|--connection-string/);
    expect(run).toContain("--destination '$web'");
    // Assets first, immutable; index.html last, never cached.
    const assets = run.indexOf('--destination-path app/assets --source web/dist/assets');
    const index = run.indexOf('upload --file web/dist/index.html --name app/index.html');
    expect(assets).toBeGreaterThan(0);
    expect(index).toBeGreaterThan(assets);
    expect(run.slice(assets, run.indexOf('\n', run.indexOf('--content-cache-control', assets)))).toContain(
      "--content-cache-control 'public, max-age=31536000, immutable'",
    );
    expect(run.slice(index)).toContain('--content-cache-control no-store');
    expect(run.slice(index).trim().split('\n')).toHaveLength(2);
    // Nothing is deleted: an open tab still loads its build's screens.
    expect(run).not.toMatch(/delete-batch|--delete|blob delete|sync/);
    // Source maps: built 'hidden' (no file names them), left out before the first upload.
    expect(text('web/vite.config.ts')).toContain("sourcemap: 'hidden'");
    const maps = run.indexOf("find web/dist -type f -name '*.map' -exec rm -f {} +");
    expect(maps).toBeGreaterThan(0);
    expect(maps).toBeLessThan(run.indexOf('az storage blob upload-batch'));
  });

  it("checks the upload even without a custom domain: a HEAD on the static website's index.html, which must answer no-store", () => {
    const deploy = workflow(REGION).jobs.deploy!;
    const check = deploy.steps!.find((s) => s.name === 'check the web app') as Step & { env: Record<string, string> };
    expect(check.env.WEB_SITE).toBe('${{ steps.infra.outputs.web-site }}');
    expect(deploy.steps!.find((s) => s.name === 'deploy infra/main.bicep')!.run).toContain(
      'echo "web-site=$(jq -r .webSiteHost.value outputs.json)"',
    );
    const withoutDomain = check.run!.slice(check.run!.indexOf('if [ -z "$ROGER_CUSTOM_DOMAIN" ]'), check.run!.indexOf('\nfi\n'));
    expect(withoutDomain).toContain('curl -fsS --max-time 20 --head -o headers.txt "https://$WEB_SITE/app/index.html"');
    expect(withoutDomain).toContain("grep -qi '^cache-control: no-store' headers.txt");
    expect(withoutDomain).toContain('exit 1');
    // Success only after the check answered: the one `exit 0` comes after the curl.
    expect(withoutDomain.indexOf('exit 0')).toBeGreaterThan(withoutDomain.indexOf('curl'));
  });
});
