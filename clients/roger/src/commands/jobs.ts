import type { Command } from 'commander';

/** Placeholder: filled in by the work on `roger jobs`. */
export function registerJobs(_program: Command): void {}
