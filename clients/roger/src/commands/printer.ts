import type { Command } from 'commander';

/** Placeholder: filled in by the work on `roger printer`. */
export function registerPrinter(_program: Command): void {}
