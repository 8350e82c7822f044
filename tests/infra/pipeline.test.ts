import { readFileSync } from 'node:fs';
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

  it('builds and lints both templates and every parameter file', () => {
    const run = workflow(PIPELINE)
      .jobs.bicep!.steps!.map((s) => s.run ?? '')
      .join('\n');
    expect(run).toContain('for template in infra/global.bicep infra/main.bicep');
    expect(run).toContain('az bicep build --file "$template"');
    expect(run).toContain('az bicep lint --file "$template"');
    expect(run).toContain('az bicep build-params --file "$params"');
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
    expect(global.steps!.map((s) => s.run ?? '').join()).toContain('--parameters infra/global.bicepparam');
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

  it('deploys a region as infrastructure, then generated secrets, then the app, then the smoke test', () => {
    const deploy = workflow(REGION).jobs.deploy!;
    const order = [
      stepIndex(deploy, (s) => Boolean(s.run?.includes('az deployment group create') && s.run.includes('infra/$REGION.bicepparam'))),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('node dist/tools/keys.js new'))),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('az functionapp deployment source config-zip'))),
      stepIndex(deploy, (s) => Boolean(s.run?.includes('node dist/tools/smoke.js'))),
    ];
    expect(
      order.every((i) => i >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const smoke = deploy.steps![order[3]!]!.run!;
    expect(smoke).toContain('--api "${{ steps.infra.outputs.api-url }}"');
    expect(smoke).toContain('--discovery "${{ inputs.discovery-url }}"');
  });

  it('signs in to Azure with OpenID Connect only: no stored secret anywhere', () => {
    for (const file of [PIPELINE, REGION]) {
      expect(text(file), file).not.toMatch(/\bsecrets\.|^\s*(creds|client-secret|publish-profile):/m);
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
    expect(secretNames.length).toBe(5);
  });

  it('reads only outputs the templates declare', () => {
    const outputs = (file: string) => [...readInfra(file).matchAll(/^output (\w+) /gm)].map((m) => m[1]);
    expect(outputs('global.bicep')).toContain('discoveryUrl');
    for (const used of text(REGION).matchAll(/jq -r \.(\w+)\.value/g)) expect(outputs('main.bicep')).toContain(used[1]);
    expect(text(PIPELINE)).toContain('properties.outputs.discoveryUrl.value');
  });
});
