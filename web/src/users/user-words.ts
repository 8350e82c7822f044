// The words of the admin Users screen (screens/UsersPage.tsx and admin/UserDetail.tsx), in English and French.
import type { Bilingual } from '../i18n.js';
import type { FieldProblems } from '../forms/field-errors.js';

const en = {
  title: 'Users',
  search: 'Search',
  searchHint: 'Name, username or email',
  newUser: 'New user',
  loading: 'Loading users…',
  loadFailed: 'The users could not be loaded',
  empty: 'No user matches this search.',
  none: 'There are no users yet.',
  name: 'Name',
  username: 'Username',
  email: 'Email',
  role: 'Role',
  status: 'Status',
  roles: { user: 'User', admin: 'Administrator' } as Record<string, string>,
  active: 'Active',
  deactivated: 'Deactivated',
  provisioned: 'Provisioned',
  open: (name: string) => `Open ${name}`,
  // Create
  createTitle: 'New user',
  password: 'Password (optional)',
  passwordHint: '8 to 128 characters. The person can also sign in with Microsoft if your company is connected.',
  pin: 'PIN (optional)',
  pinHint: 'Digits only, for the printer’s panel; the policy sets the length.',
  create: 'Create',
  creating: 'Creating…',
  cancel: 'Cancel',
  createFailed: 'The user could not be created',
  created: (name: string) => `${name} is created.`,
  invalid: {
    email: 'Enter an email address such as name@contoso.com.',
    username: 'Use 2 to 64 letters, digits, dots, dashes or underscores, without “@”.',
    fullName: 'Enter a name of up to 200 characters.',
    role: 'Choose a role.',
    password: 'A password has 8 to 128 characters.',
    pin: 'A PIN has digits only (4 to 12).',
  } as Record<string, string>,
  taken: { email: 'Another user already has this email.', username: 'Another user already has this username.' } as Record<string, string>,
  required: 'Required',
  // Detail
  back: 'All users',
  notFound: 'This user does not exist, or was erased.',
  details: 'Details',
  save: 'Save changes',
  saving: 'Saving…',
  saved: 'The changes are saved.',
  saveFailed: 'The changes could not be saved',
  nothingChanged: 'Nothing has changed.',
  managed: 'Managed by your company directory (SCIM): change it there.',
  managedTitle: 'Provisioned by your company directory',
  managedBody: 'Your identity provider creates and updates this user over SCIM. What it owns cannot be changed here.',
  isDeactivated: 'This account is turned off in your company directory: the person cannot sign in.',
  pinTitle: 'PIN',
  pinReset: 'Reset the PIN',
  pinResetTitle: 'Reset this user’s PIN?',
  pinResetBody: (name: string) => `${name} gets a new random PIN. The old one stops working, and ${name} is signed out everywhere.`,
  pinResetConfirm: 'Reset the PIN',
  pinResetFailed: 'The PIN could not be reset',
  pinShownTitle: 'The new PIN',
  pinShownBody: 'Give this PIN to the person now. It is shown only once: after you close this window, nobody can see it again.',
  pinLabel: 'New PIN',
  close: 'Close',
  credentialsTitle: 'Set a password or PIN',
  newPassword: 'New password',
  newPin: 'New PIN',
  setCredentials: 'Set',
  credentialsSet: 'Done. The person is signed out everywhere and uses the new credentials from now on.',
  credentialsFailed: 'The credentials could not be set',
  credentialsHint: 'Fill in one or both.',
  signIns: 'Sign-ins',
  signInsEmpty: 'No sign-ins are kept for this user.',
  signInsFailed: 'The sign-ins could not be loaded',
  when: 'When',
  method: 'Method',
  client: 'App',
  result: 'Result',
  succeeded: 'Signed in',
  failed: 'Failed',
  methods: { pin: 'PIN', password: 'Password', microsoft: 'Microsoft' } as Record<string, string>,
  eraseTitle: 'Erase',
  eraseIntro: 'Erasing removes the user and everything that names them: jobs, sign-ins, tokens and the OneDrive link. It cannot be undone.',
  erase: 'Erase this user',
  eraseDialogTitle: (name: string) => `Erase ${name}?`,
  eraseDialogBody: 'Everything stored about this person is deleted at once and cannot be brought back. The audit log keeps only counts.',
  eraseType: (username: string) => `Type the username “${username}” to confirm`,
  eraseConfirm: 'Erase for good',
  eraseFailed: 'The user could not be erased',
  erased: (name: string) => `${name} is erased.`,
};

export type UserWords = typeof en;

const fr: UserWords = {
  title: 'Utilisateurs',
  search: 'Rechercher',
  searchHint: 'Nom, identifiant ou adresse e‑mail',
  newUser: 'Nouvel utilisateur',
  loading: 'Chargement des utilisateurs…',
  loadFailed: 'Les utilisateurs n’ont pas pu être chargés',
  empty: 'Aucun utilisateur ne correspond à cette recherche.',
  none: 'Il n’y a encore aucun utilisateur.',
  name: 'Nom',
  username: 'Identifiant',
  email: 'E‑mail',
  role: 'Rôle',
  status: 'État',
  roles: { user: 'Utilisateur', admin: 'Administrateur' },
  active: 'Actif',
  deactivated: 'Désactivé',
  provisioned: 'Provisionné',
  open: (name) => `Ouvrir ${name}`,
  createTitle: 'Nouvel utilisateur',
  password: 'Mot de passe (facultatif)',
  passwordHint: 'De 8 à 128 caractères. La personne peut aussi se connecter avec Microsoft si votre entreprise est connectée.',
  pin: 'Code PIN (facultatif)',
  pinHint: 'Chiffres uniquement, pour le panneau de l’imprimante\u00a0; les règles fixent la longueur.',
  create: 'Créer',
  creating: 'Création…',
  cancel: 'Annuler',
  createFailed: 'L’utilisateur n’a pas pu être créé',
  created: (name) => `${name} est créé.`,
  invalid: {
    email: 'Saisissez une adresse e‑mail comme nom@contoso.com.',
    username: 'De 2 à 64 lettres, chiffres, points, tirets ou soulignés, sans «\u00a0@\u00a0».',
    fullName: 'Saisissez un nom de 200 caractères au plus.',
    role: 'Choisissez un rôle.',
    password: 'Un mot de passe compte de 8 à 128 caractères.',
    pin: 'Un code PIN ne contient que des chiffres (4 à 12).',
  },
  taken: { email: 'Un autre utilisateur a déjà cette adresse e‑mail.', username: 'Un autre utilisateur a déjà cet identifiant.' },
  required: 'Obligatoire',
  back: 'Tous les utilisateurs',
  notFound: 'Cet utilisateur n’existe pas, ou a été effacé.',
  details: 'Informations',
  save: 'Enregistrer',
  saving: 'Enregistrement…',
  saved: 'Les modifications sont enregistrées.',
  saveFailed: 'Les modifications n’ont pas pu être enregistrées',
  nothingChanged: 'Rien n’a changé.',
  managed: 'Géré par l’annuaire de votre entreprise (SCIM)\u00a0: modifiez-le là-bas.',
  managedTitle: 'Provisionné par l’annuaire de votre entreprise',
  managedBody:
    'Votre fournisseur d’identité crée et met à jour cet utilisateur par SCIM. Ce qui relève de lui ne peut pas être modifié ici.',
  isDeactivated: 'Ce compte est désactivé dans l’annuaire de votre entreprise\u00a0: la personne ne peut pas se connecter.',
  pinTitle: 'Code PIN',
  pinReset: 'Réinitialiser le code PIN',
  pinResetTitle: 'Réinitialiser le code PIN de cet utilisateur\u00a0?',
  pinResetBody: (name) => `${name} reçoit un nouveau code PIN aléatoire. L’ancien ne fonctionne plus et ${name} est déconnecté partout.`,
  pinResetConfirm: 'Réinitialiser le code PIN',
  pinResetFailed: 'Le code PIN n’a pas pu être réinitialisé',
  pinShownTitle: 'Le nouveau code PIN',
  pinShownBody:
    'Transmettez ce code PIN à la personne maintenant. Il n’est affiché qu’une fois\u00a0: après la fermeture de cette fenêtre, personne ne peut le revoir.',
  pinLabel: 'Nouveau code PIN',
  close: 'Fermer',
  credentialsTitle: 'Définir un mot de passe ou un code PIN',
  newPassword: 'Nouveau mot de passe',
  newPin: 'Nouveau code PIN',
  setCredentials: 'Définir',
  credentialsSet: 'C’est fait. La personne est déconnectée partout et utilise désormais les nouveaux identifiants.',
  credentialsFailed: 'Les identifiants n’ont pas pu être définis',
  credentialsHint: 'Remplissez l’un des deux, ou les deux.',
  signIns: 'Connexions',
  signInsEmpty: 'Aucune connexion n’est conservée pour cet utilisateur.',
  signInsFailed: 'Les connexions n’ont pas pu être chargées',
  when: 'Date',
  method: 'Méthode',
  client: 'Application',
  result: 'Résultat',
  succeeded: 'Connecté',
  failed: 'Échec',
  methods: { pin: 'Code PIN', password: 'Mot de passe', microsoft: 'Microsoft' },
  eraseTitle: 'Effacement',
  eraseIntro:
    'L’effacement supprime l’utilisateur et tout ce qui le désigne\u00a0: impressions, connexions, jetons et lien OneDrive. C’est irréversible.',
  erase: 'Effacer cet utilisateur',
  eraseDialogTitle: (name) => `Effacer ${name}\u00a0?`,
  eraseDialogBody:
    'Tout ce qui est conservé sur cette personne est supprimé immédiatement et ne peut pas être récupéré. Le journal d’audit ne garde que des comptes.',
  eraseType: (username) => `Saisissez l’identifiant «\u00a0${username}\u00a0» pour confirmer`,
  eraseConfirm: 'Effacer définitivement',
  eraseFailed: 'L’utilisateur n’a pas pu être effacé',
  erased: (name) => `${name} est effacé.`,
};

export const USER_WORDS: Bilingual<UserWords> = { en, fr };

export interface User {
  id: string;
  email: string;
  username: string;
  fullName: string;
  role: 'user' | 'admin';
  hasPin: boolean;
  hasPassword: boolean;
  active: boolean;
  provisioned: boolean;
  createdAt: string;
}

/** The message under a field: the API's verdict in this screen's words. */
export function fieldMessage(words: UserWords, problems: FieldProblems, field: string): string | undefined {
  const problem = problems[field]?.fault;
  if (problem === 'conflict') return words.taken[field] ?? words.invalid[field];
  if (problem === 'invalid') return words.invalid[field];
  return undefined;
}
