// Every screen of the app: its path under /app/, its entry in the navigation, whether it is for
// admins, and its module. My jobs, the landing screen, is part of the first load (and of the 300 KB
// budget, docs/web-app.md); every other screen is loaded when first opened.
import { lazy, type ComponentType } from 'react';
import type { Words } from '../i18n.js';
import { JobsPage } from '../JobsPage.js';

export interface Screen {
  path: string;
  nav: keyof Words['nav'];
  /** Shown in the navigation and opened only for admins; the API checks every call regardless. */
  admin?: boolean;
  component: ComponentType;
}

const load = <K extends string>(loader: () => Promise<Record<K, ComponentType>>, name: K) =>
  lazy(() => loader().then((module) => ({ default: module[name] })));

export const screens: readonly Screen[] = [
  { path: '/app/', nav: 'jobs', component: JobsPage },
  { path: '/app/print', nav: 'print', component: load(() => import('./PrintPage.js'), 'PrintPage') },
  { path: '/app/approve', nav: 'approve', component: load(() => import('./ApprovePage.js'), 'ApprovePage') },
  { path: '/app/onedrive', nav: 'onedrive', component: load(() => import('./OneDrivePage.js'), 'OneDrivePage') },
  { path: '/app/settings', nav: 'settings', component: load(() => import('./SettingsPage.js'), 'SettingsPage') },
  { path: '/app/admin/users', nav: 'users', admin: true, component: load(() => import('./UsersPage.js'), 'UsersPage') },
  { path: '/app/admin/printers', nav: 'printers', admin: true, component: load(() => import('./PrintersPage.js'), 'PrintersPage') },
  { path: '/app/admin/usage', nav: 'usage', admin: true, component: load(() => import('./UsagePage.js'), 'UsagePage') },
  { path: '/app/admin/policy', nav: 'policy', admin: true, component: load(() => import('./PolicyPage.js'), 'PolicyPage') },
  {
    path: '/app/admin/scan-profiles',
    nav: 'scanProfiles',
    admin: true,
    component: load(() => import('./ScanProfilesPage.js'), 'ScanProfilesPage'),
  },
  { path: '/app/admin/audit', nav: 'audit', admin: true, component: load(() => import('./AuditPage.js'), 'AuditPage') },
  { path: '/app/admin/identity', nav: 'identity', admin: true, component: load(() => import('./IdentityPage.js'), 'IdentityPage') },
];

/** The screen at `pathname` (a trailing slash does not matter), or undefined. */
export function screenAt(pathname: string): Screen | undefined {
  const path = pathname !== '/app/' && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  return screens.find((screen) => screen.path === path);
}
