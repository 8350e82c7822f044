import type { Command } from 'commander';

/** Placeholder: filled in by the work on `roger print`. */
export function registerPrint(_program: Command): void {}
