// The store's own ceiling for one kind of API call (docs/benchmarks.md#store-efficiency): the
// Cosmos requests one call makes, and nothing else, on the store our local host uses (the app's
// store on the in-process Cosmos-compatible server, the app's containers with their indexing
// policies), with as many calls in flight as the load has connections. It runs in a process of
// its own, as the host does, so it gets a fresh heap and the same one core the host's store
// gets; the bench process only asks it for a row and waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Container } from '@azure/cosmos';
import { loadConfig } from '../../shared/config/load-config.js';
import { containerSpecs, type ContainerName } from '../../shared/store/containers.js';
import { measureCosmosUsage, type CosmosUsage } from '../../shared/store/request-meter.js';
import type { Store } from '../../shared/store/store.js';
import { openLocalStore } from '../local/cosmos-server.js';
import { percentile, type LoadOptions } from './load.js';
import type { CallCost } from './request-log.js';

/**
 * One Cosmos request (or a read and its conditional replace) of a call. `bytes` is the item's
 * size as sent; a step without it writes or reads a small item (a rate-limit counter's size).
 * `indexedFields`: how many of the container's indexed paths the item fills in (its key and
 * `type` aside), so that a write touches as many index terms as the app's.
 */
export interface StoreStep {
  readonly op: 'create' | 'read' | 'read-replace';
  readonly container: ContainerName;
  readonly bytes?: number;
  readonly indexedFields?: number;
}

/** What one API call asks of the store, in order. */
export interface StoreShape {
  readonly steps: readonly StoreStep[];
  /**
   * The call's bytes written and indexed paths as the request log measured them: the last
   * sized step is changed until the store alone writes as much per call, on the same meter.
   */
  readonly bytesWritten?: number;
  readonly indexedPaths?: number;
}

/** For the table: e.g. "accounts read + replace of 1.4 KB". */
export function describeSteps(steps: readonly StoreStep[]): string {
  const size = (bytes: number | undefined) => (bytes === undefined ? 'a counter' : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${Math.round(bytes)} B`);
  const op = { create: 'create', read: 'read', 'read-replace': 'read + replace' };
  return steps.map((step) => `${step.container} ${op[step.op]} of ${size(step.bytes)}`).join(', then ');
}

export interface CeilingResult {
  /** Calls (all of a shape's steps) per second. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly calls: number;
  /** CPU time of the store's process per call (ms), as for our host's rows. */
  readonly cpuMsPerCall: number;
  /** Per call, measured by the same meter as the host's request log. */
  readonly cost: CallCost;
  /** The steps as run, sizes after matching the bytes written. */
  readonly steps: readonly StoreStep[];
}

interface RunMessage {
  readonly shape: StoreShape;
  readonly load: LoadOptions;
}

/** Mean cost per call, on the meter the host's request log uses (shared/store/request-meter.ts). */
function costOf(usages: readonly CosmosUsage[]): CallCost {
  const mean = (pick: (u: CosmosUsage) => number) => Math.round((usages.reduce((sum, u) => sum + pick(u), 0) / usages.length) * 100) / 100;
  return {
    requests: mean((u) => u.requests),
    ru: mean((u) => u.requestCharge),
    bytesRead: mean((u) => u.bytesRead),
    bytesWritten: mean((u) => u.bytesWritten),
    indexedPaths: mean((u) => u.indexedPaths),
    ruEstimate: mean((u) => u.ruEstimate),
  };
}

const PARTITION = 'bench-ceiling';

/** The container's indexed top-level fields, other than the item's key and `type` (which every item has). */
function indexedFieldsOf(container: ContainerName): string[] {
  const spec = containerSpecs[container];
  const key = spec.partitionKeyPath.slice(1);
  return spec.indexingPolicy.includedPaths
    .map(({ path }) => /^\/(\w+)\/\?$/.exec(path)?.[1])
    .filter((field): field is string => field !== undefined && field !== key && field !== 'type' && field !== 'id');
}

/** An item for `container` of about `bytes` serialized: its keys, indexed fields, then filler shaped like the app's lists. */
function item(container: ContainerName, id: string, { bytes, indexedFields = 0 }: StoreStep): Record<string, unknown> {
  const key = containerSpecs[container].partitionKeyPath.slice(1);
  const indexed = Object.fromEntries(indexedFieldsOf(container).slice(0, indexedFields).map((field) => [field, `bench-${field}`]));
  const base: Record<string, unknown> = { id, ...(key === 'id' ? {} : { [key]: PARTITION }), type: 'bench', ...indexed, count: 1, ttl: 600 };
  if (bytes === undefined) return base;
  const entries: { at: string; value: string }[] = [];
  const size = () => JSON.stringify({ ...base, entries }).length;
  // Lists of small objects (as login history and refresh families are), not one long string:
  // the parse and serialize work per byte is then about what the app's items cost.
  while (size() + 60 < bytes) entries.push({ at: new Date(1_780_000_000_000 + entries.length).toISOString(), value: randomBytes(9).toString('base64url') });
  const rest = Math.max(0, bytes - size() - 10);
  return { ...base, entries, pad: 'x'.repeat(rest) };
}

class Runner {
  private round = 0;
  /** Every create gets an id of its own, across warm-up, timed windows and cost samples. */
  private sequence = 0;
  private steps: StoreStep[] = [];
  /** Per worker and step: the item a read or read-replace step works on. */
  private fixtures: string[][] = [];
  /** Per step: the item a create step writes, built once (building it is no part of the store's work). */
  private templates: Record<string, unknown>[] = [];

  constructor(private readonly store: Store) {}

  private container(step: StoreStep): Container {
    return this.store.container(step.container);
  }

  private partition(step: StoreStep, id: string) {
    return containerSpecs[step.container].partitionKeyPath === '/id' ? id : PARTITION;
  }

  async prepare(steps: readonly StoreStep[], workers: number): Promise<void> {
    this.round += 1;
    this.steps = [...steps];
    this.fixtures = [];
    this.templates = this.steps.map((step) => item(step.container, 'c-0000000', step));
    for (let worker = 0; worker < workers; worker++) {
      const ids: string[] = [];
      for (const [index, step] of this.steps.entries()) {
        const id = `ceiling-${this.round}-${worker}-${index}`;
        if (step.op !== 'create') await this.container(step).items.upsert(item(step.container, id, step));
        ids.push(id);
      }
      this.fixtures.push(ids);
    }
  }

  /** One call: every step, in order, as the app makes them. */
  async call(worker: number): Promise<void> {
    for (const [index, step] of this.steps.entries()) {
      const container = this.container(step);
      if (step.op === 'create') {
        await container.items.create({ ...this.templates[index]!, id: `c-${String(this.sequence++).padStart(7, '0')}` });
        continue;
      }
      const id = this.fixtures[worker]![index]!;
      const read = container.item(id, this.partition(step, id));
      const { resource } = await read.read<Record<string, unknown> & { count: number; _etag: string }>();
      if (step.op === 'read-replace') {
        await read.replace({ ...resource!, count: resource!.count + 1 }, { accessCondition: { type: 'IfMatch', condition: resource!._etag } });
      }
    }
  }

  async measureCost(workers: number, calls: number): Promise<CallCost> {
    const usages: CosmosUsage[] = [];
    for (let n = 0; n < calls; n++) usages.push((await measureCosmosUsage(() => this.call(n % workers))).usage);
    return costOf(usages);
  }

  async timed(workers: number, seconds: number) {
    const latencies: number[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          await this.call(worker);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      cpuMsPerCall: Math.round(((used.user + used.system) / 1000 / latencies.length) * 1000) / 1000,
      rps: latencies.length / elapsed, p50: Math.round(percentile(latencies, 50) * 10) / 10, p99: Math.round(percentile(latencies, 99) * 10) / 10, calls: latencies.length };
  }

  async run({ shape, load }: RunMessage): Promise<CeilingResult> {
    const workers = load.connections;
    const steps = [...shape.steps];
    await this.prepare(steps, workers);
    // Match the bytes written and the index terms per call, measured on the same meter: the
    // sized step absorbs the difference (a few passes: indexed fields add bytes, and the store
    // adds its system properties to what a replace sends back).
    const sized = steps.map((s) => s.bytes !== undefined).lastIndexOf(true);
    for (let pass = 0; pass < 4 && sized >= 0; pass++) {
      const measured = await this.measureCost(workers, 3);
      const step = steps[sized]!;
      const paths = shape.indexedPaths === undefined ? 0 : Math.round(shape.indexedPaths - measured.indexedPaths!);
      const bytes = shape.bytesWritten === undefined ? 0 : shape.bytesWritten - measured.bytesWritten!;
      const indexedFields = Math.min(indexedFieldsOf(step.container).length, Math.max(0, (step.indexedFields ?? 0) + paths));
      if (indexedFields === (step.indexedFields ?? 0) && Math.abs(bytes) <= 16) break;
      steps[sized] = { ...step, indexedFields, bytes: Math.max(64, step.bytes! + bytes) };
      await this.prepare(steps, workers);
    }
    if (load.warmupSeconds > 0) await this.timed(workers, load.warmupSeconds);
    const timed = await this.timed(workers, load.seconds);
    return { ...timed, cost: await this.measureCost(workers, 20), steps };
  }
}

/** The child's side: opens the store, then runs each shape it is sent and answers with the row. */
export async function serveStoreCeiling(): Promise<void> {
  const store = await openLocalStore(loadConfig({}));
  const runner = new Runner(store);
  process.on('message', (message: RunMessage | 'stop') => {
    if (message === 'stop') {
      void store.close().then(() => process.exit(0));
      return;
    }
    runner.run(message).then(
      (result) => process.send!({ result }),
      (error: unknown) => process.send!({ error: String((error as Error)?.stack ?? error) }),
    );
  });
  process.send!('ready');
}

export interface StoreCeiling {
  run(shape: StoreShape, load: LoadOptions): Promise<CeilingResult>;
  stop(): Promise<void>;
}

/** Starts the child (this same bundle, `store-ceiling` mode) and waits until its store is open. */
export async function startStoreCeiling(script: string): Promise<StoreCeiling> {
  const child: ChildProcess = spawn(process.execPath, [script, 'store-ceiling'], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the store-ceiling process exited with ${code}`)));
  });
  return {
    run: (shape, load) =>
      new Promise((resolve, reject) => {
        child.once('message', (answer: { result?: CeilingResult; error?: string }) =>
          answer.result ? resolve(answer.result) : reject(new Error(`store ceiling: ${answer.error}`)),
        );
        child.send({ shape, load } satisfies RunMessage);
      }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await exited;
    },
  };
}
