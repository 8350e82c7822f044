import { join } from 'node:path';
import { configDir, readSecretFile, writeSecretFile } from '@roger-cloud/client-kit/secret-file';

/**
 * What the agent keeps between runs (docs/clients.md#roger-printer): where it is enrolled, which
 * printer it is, and the device refresh token. One file, 0600 in a 0700 folder, written whole.
 * No access token is kept: one refresh at start gives a fresh one, and a file without it is
 * worth less to whoever copies it (the refresh token alone is spent at its first use by us).
 */
export interface AgentState {
  /** The regional API this printer is enrolled with (the OAuth issuer). */
  readonly apiUrl: string;
  /** The printer's id in Roger: its device token's subject. */
  readonly deviceId: string;
  /** The device refresh token: rotated at every use, saved at once (sliding 90 days). */
  readonly refreshToken: string;
  /** The name given with --name at enrollment, when one was. */
  readonly name?: string;
  /** ISO time of the enrollment. */
  readonly enrolledAt: string;
}

export const defaultStatePath = () => join(configDir('roger-printer'), 'state.json');

export async function readState(path: string): Promise<AgentState | undefined> {
  // Its refresh token may already have been copied: a new enrollment gives the printer a new one.
  const state = await readSecretFile<Partial<AgentState>>(path, 'delete it and enroll the printer again (`roger-printer enroll`)');
  if (state === undefined) return undefined;
  if (typeof state.apiUrl !== 'string' || typeof state.deviceId !== 'string' || typeof state.refreshToken !== 'string') {
    throw new Error(`${path} is not a roger-printer state file: delete it to enroll again`);
  }
  return state as AgentState;
}

export const writeState = (path: string, state: AgentState) => writeSecretFile(path, state);
