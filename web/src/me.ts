// Who is signed in (GET /api/me): name, role, tenant, OneDrive status. Read once per page load and
// again when a screen changes something it shows (reloadMe); the admin screens are offered to
// admins, while the API still decides every request on its own.
import { useSyncExternalStore } from 'react';
import { apiJson } from './api.js';

export interface PublicUser {
  id: string;
  email: string;
  username: string;
  fullName: string;
  role: 'admin' | 'user';
  hasPin: boolean;
  hasPassword: boolean;
  active: boolean;
  provisioned: boolean;
  createdAt: string;
}
export interface Me {
  kind: string;
  tenant: { id: string; slug: string; name: string };
  user?: PublicUser;
  onedrive?: { status: 'not-connected' | 'connected' | 'reconnect-required'; connectedAt?: string };
  roles: string[];
  scopes: string[];
}
export type MeState = { kind: 'loading' } | { kind: 'failed'; error: unknown } | { kind: 'loaded'; me: Me };

let state: MeState = { kind: 'loading' };
let started = false;
const listeners = new Set<() => void>();
const set = (next: MeState) => {
  state = next;
  listeners.forEach((listener) => listener());
};

// Reads are numbered: Print, OneDrive (polling, focus) and changes all ask again, and an older
// answer arriving last must not show a stale status (say, connected after Disconnect).
let latest = 0;

export function reloadMe(): Promise<void> {
  started = true;
  const number = ++latest;
  return apiJson<Me>('/api/me').then(
    (me) => {
      if (number === latest) set({ kind: 'loaded', me });
    },
    (error: unknown) => {
      // A background read that fails keeps what was loaded (the admin navigation stays); only a
      // first read that fails says so.
      if (number === latest && state.kind !== 'loaded') set({ kind: 'failed', error });
    },
  );
}

export function useMe(): MeState {
  if (!started) void reloadMe();
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}

export const isAdmin = (me: Me | undefined) => me?.roles.includes('admin') === true;
