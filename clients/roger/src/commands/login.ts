import type { Command } from 'commander';

/** Placeholder: filled in by the work on `roger login`. */
export function registerLogin(_program: Command): void {}
