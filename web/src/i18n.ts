// The app's words in English and French. The language comes from the browser, or from the switch
// (kept in sessionStorage for the tab: a preference, not a secret). The shell's words are here;
// each screen keeps its own beside it, as `{ en, fr }` read through useWords.
import { useSyncExternalStore } from 'react';

const en = {
  appName: 'Roger',
  myJobs: 'My jobs',
  signingIn: 'Signing you in…',
  signInFailed: 'Sign-in did not finish',
  tryAgain: 'Try again',
  loading: 'Loading your jobs…',
  empty: 'You have no print jobs. Jobs you send to Roger appear here until they are printed or expire.',
  loadFailed: 'Your jobs could not be loaded',
  file: 'Document',
  state: 'State',
  created: 'Sent',
  actions: 'Actions',
  cancel: 'Cancel',
  cancelTitle: 'Cancel this job?',
  cancelBody: (name: string) => `“${name}” will not be printed, and is removed from your jobs.`,
  cancelConfirm: 'Cancel the job',
  keep: 'Keep it',
  cancelFailed: 'The job could not be cancelled',
  cancelled: (name: string) => `“${name}” is cancelled.`,
  language: 'Language',
  menu: 'Menu',
  navigation: 'Navigation',
  nav: {
    jobs: 'My jobs',
    print: 'Print a file',
    approve: 'Approve at a printer',
    onedrive: 'OneDrive',
    settings: 'Settings',
    users: 'Users',
    printers: 'Printers',
    usage: 'Usage',
    policy: 'Policy',
    scanProfiles: 'Scan profiles',
    audit: 'Audit log',
    identity: 'Identity',
  },
  admin: 'Administration',
  notFound: 'This page does not exist',
  notFoundBody: 'The address may be mistyped, or the page has moved.',
  goHome: 'Go to my jobs',
  adminOnly: 'Only administrators can open this page',
  screenFailed: 'This page could not be loaded',
  loadingPage: 'Loading…',
  states: {
    registered: 'Uploading',
    queued: 'Queued',
    released: 'Released',
    printed: 'Printed',
    failed: 'Not printed',
    cancelled: 'Cancelled',
  } as Record<string, string>,
  // Why a printer could not print a job (the API's fixed list, docs/flows.md#release-to-printers).
  failedReasons: {
    'paper-jam': 'Paper jam',
    'out-of-paper': 'Out of paper',
    'cancelled-at-panel': 'Cancelled at the printer',
    'document-unreadable': 'The printer could not read the document',
    'document-missing': 'The document is no longer in OneDrive',
    'download-failed': 'The printer could not download the document',
    'printer-error': 'Printer error',
  } as Record<string, string>,
  failedHint: 'Release it again at a printer, or cancel it.',
  // What the printer reported printing (docs/flows.md#what-was-printed).
  printedFigures: (pages: number, sheets: number, color: number) =>
    `${pages} ${pages === 1 ? 'page' : 'pages'} on ${sheets} ${sheets === 1 ? 'sheet' : 'sheets'}, ${color} in colour`,
  // Why a queued job was held back at its last release (print rights, docs/flows.md#print-rights).
  heldReasons: {
    'color-not-allowed': 'Held: you may not print in colour',
    'duplex-required': 'Held: you must print on both sides',
    'too-many-copies': 'Held: more copies than you may print',
  } as Record<string, string>,
  heldHint: 'Cancel it and print it again within your rights, or ask your administrator.',
  /** What print rights changed when the job was sent (the printer got these options). */
  changedOptions: (changes: string[]) => `Sent ${changes.join(', ')} (your print rights).`,
  optionChanges: { mono: 'in black and white', duplex: 'on both sides', copies: (n: number) => `as ${n} ${n === 1 ? 'copy' : 'copies'}` },
  cleanupPending: 'File clean-up pending',
  cleanedUp: { deleted: 'File moved to the OneDrive recycle bin', moved: 'File moved to Print/Printed' } as Record<string, string>,
};
export type Words = typeof en;

const fr: Words = {
  appName: 'Roger',
  myJobs: 'Mes impressions',
  signingIn: 'Connexion en cours…',
  signInFailed: 'La connexion n’a pas abouti',
  tryAgain: 'Réessayer',
  loading: 'Chargement de vos impressions…',
  empty: 'Vous n’avez aucune impression. Les documents envoyés à Roger apparaissent ici jusqu’à leur impression ou leur expiration.',
  loadFailed: 'Vos impressions n’ont pas pu être chargées',
  file: 'Document',
  state: 'État',
  created: 'Envoyé',
  actions: 'Actions',
  cancel: 'Annuler',
  cancelTitle: 'Annuler cette impression ?',
  cancelBody: (name: string) => `« ${name} » ne sera pas imprimé et disparaît de vos impressions.`,
  cancelConfirm: 'Annuler l’impression',
  keep: 'Conserver',
  cancelFailed: 'L’impression n’a pas pu être annulée',
  cancelled: (name: string) => `« ${name} » est annulé.`,
  language: 'Langue',
  menu: 'Menu',
  navigation: 'Navigation',
  nav: {
    jobs: 'Mes impressions',
    print: 'Imprimer un fichier',
    approve: 'Valider à une imprimante',
    onedrive: 'OneDrive',
    settings: 'Paramètres',
    users: 'Utilisateurs',
    printers: 'Imprimantes',
    usage: 'Utilisation',
    policy: 'Règles',
    scanProfiles: 'Profils de numérisation',
    audit: 'Journal d’audit',
    identity: 'Identité',
  },
  admin: 'Administration',
  notFound: 'Cette page n’existe pas',
  notFoundBody: 'L’adresse est peut-être mal saisie, ou la page a été déplacée.',
  goHome: 'Aller à mes impressions',
  adminOnly: 'Seuls les administrateurs peuvent ouvrir cette page',
  screenFailed: 'Cette page n’a pas pu être chargée',
  loadingPage: 'Chargement…',
  states: {
    registered: 'En cours d’envoi',
    queued: 'En attente',
    released: 'Libéré',
    printed: 'Imprimé',
    failed: 'Non imprimé',
    cancelled: 'Annulé',
  },
  failedReasons: {
    'paper-jam': 'Bourrage papier',
    'out-of-paper': 'Plus de papier',
    'cancelled-at-panel': 'Annulé à l’imprimante',
    'document-unreadable': 'L’imprimante n’a pas pu lire le document',
    'document-missing': 'Le document n’est plus dans OneDrive',
    'download-failed': 'L’imprimante n’a pas pu télécharger le document',
    'printer-error': 'Erreur de l’imprimante',
  },
  failedHint: 'Libérez-le à nouveau à une imprimante, ou annulez-le.',
  printedFigures: (pages: number, sheets: number, color: number) =>
    `${pages}\u00a0${pages > 1 ? 'pages' : 'page'} sur ${sheets}\u00a0${sheets > 1 ? 'feuilles' : 'feuille'}, dont ${color} en couleur`,
  heldReasons: {
    'color-not-allowed': 'Retenu\u00a0: vous ne pouvez pas imprimer en couleur',
    'duplex-required': 'Retenu\u00a0: vous devez imprimer en recto verso',
    'too-many-copies': 'Retenu\u00a0: plus d’exemplaires que vous ne pouvez en imprimer',
  },
  heldHint: 'Annulez-le et imprimez-le à nouveau dans le respect de vos droits, ou demandez à votre administrateur.',
  changedOptions: (changes: string[]) => `Envoyé ${changes.join(', ')} (vos droits d’impression).`,
  optionChanges: {
    mono: 'en noir et blanc',
    duplex: 'en recto verso',
    copies: (n: number) => `en ${n}\u00a0${n > 1 ? 'exemplaires' : 'exemplaire'}`,
  },
  cleanupPending: 'Nettoyage du fichier en attente',
  cleanedUp: { deleted: 'Fichier placé dans la corbeille OneDrive', moved: 'Fichier déplacé dans Print/Printed' },
};

export type Language = 'en' | 'fr';
const WORDS: Record<Language, Words> = { en, fr };
const KEY = 'roger.language';

const fromBrowser = (): Language => (navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en');
let current: Language = (sessionStorage.getItem(KEY) as Language | null) ?? fromBrowser();
const listeners = new Set<() => void>();
document.documentElement.lang = current;

export function setLanguage(language: Language): void {
  current = language;
  sessionStorage.setItem(KEY, language);
  document.documentElement.lang = language;
  listeners.forEach((listener) => listener());
}

export function useLanguage(): [Language, Words] {
  const language = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
  return [language, WORDS[language]];
}

/** A screen's own words in both languages; the same shape in each, checked by the type. */
export type Bilingual<T> = Readonly<Record<Language, T>>;

/** The words of `dictionary` in the current language; re-renders on a language switch. */
export function useWords<T>(dictionary: Bilingual<T>): T {
  const [language] = useLanguage();
  return dictionary[language];
}
