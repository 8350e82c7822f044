// Policy (/app/admin/policy): every tenant setting PATCH /api/tenant takes, grouped in plain words,
// each with a hint; Save sends only what changed, and a value the API refuses is marked at its
// field with this screen's words for what the field takes. The facts an admin cannot change here (sign-in methods in force,
// connected Entra tenants, email domains) are shown above. What happens to the file after printing,
// retention in hours and print rights per role are here too (docs/web-app.md#admin-usage-and-printing).
import {
  Button,
  Card,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Radio,
  RadioGroup,
  Spinner,
  Subtitle2,
  Switch,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { CheckboxGroup } from '../forms/controls.js';
import { useFieldErrors } from '../forms/field-errors.js';
import { typedNumber } from '../forms/values.js';
import { useWords, type Bilingual } from '../i18n.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  region: string;
  policy: Policy;
  signInMethods: ('microsoft' | 'password')[];
  entraTenantIds: string[];
  bindEntraOnFirstAdminSignIn: boolean;
  emailDomains: string[];
}

type Role = 'user' | 'admin';
const ROLES: readonly Role[] = ['user', 'admin'];
type AfterPrint = 'keep' | 'delete' | 'move';
const AFTER_PRINT: readonly AfterPrint[] = ['keep', 'delete', 'move'];
type OnViolation = 'downgrade' | 'hold';

/** What one role may print; a right left out is not limited (docs/flows.md#print-rights). */
interface PrintRights {
  color?: boolean;
  duplexForced?: boolean;
  maxCopies?: number;
}
interface PrintRightsPolicy {
  onViolation: OnViolation;
  roles?: Partial<Record<Role, PrintRights>>;
  /** Rights of single users, set on the user's page; kept as they are by this screen. */
  users?: Record<string, PrintRights>;
}

interface Policy {
  jobRetentionDays: number;
  /** When set, wins over jobRetentionDays; sending jobRetentionDays alone removes it. */
  jobRetentionHours?: number;
  afterPrint: AfterPrint;
  printRights?: PrintRightsPolicy;
  pinMinLength: number;
  pinDensity: number;
  passwordMinLength: number;
  passwordNeedsLetterAndDigit: boolean;
  lockoutThreshold: number;
  lockoutSeconds: number;
  loginHistoryKeepsIp: boolean;
  loginHistoryDays: number;
  allowedLoginMethods: ('qr' | 'pin' | 'password')[];
  printerFailedSignInLimit: number;
  signInMethods?: ('microsoft' | 'password')[];
  entraAdminGroupId?: string;
  jitProvisioning: boolean;
}

type NumberField =
  | 'jobRetentionDays'
  | 'pinMinLength'
  | 'pinDensity'
  | 'passwordMinLength'
  | 'lockoutThreshold'
  | 'lockoutSeconds'
  | 'loginHistoryDays'
  | 'printerFailedSignInLimit';
type SwitchField = 'passwordNeedsLetterAndDigit' | 'loginHistoryKeepsIp' | 'jitProvisioning';

/** The form: numbers as typed (strings), so a value the API refuses can be sent and explained. */
interface Draft {
  name: string;
  numbers: Record<NumberField, string>;
  switches: Record<SwitchField, boolean>;
  allowedLoginMethods: Policy['allowedLoginMethods'];
  signInMethods: Tenant['signInMethods'];
  entraAdminGroupId: string;
  /** '' when jobs are kept by days. */
  jobRetentionHours: string;
  afterPrint: AfterPrint;
  onViolation: OnViolation;
  rights: Record<Role, { color: boolean; duplexForced: boolean; maxCopies: string }>;
}

const NUMBERS: NumberField[] = [
  'jobRetentionDays',
  'pinMinLength',
  'pinDensity',
  'passwordMinLength',
  'lockoutThreshold',
  'lockoutSeconds',
  'loginHistoryDays',
  'printerFailedSignInLimit',
];
const SWITCHES: SwitchField[] = ['passwordNeedsLetterAndDigit', 'loginHistoryKeepsIp', 'jitProvisioning'];

const draftOf = (tenant: Tenant): Draft => ({
  name: tenant.name,
  numbers: Object.fromEntries(NUMBERS.map((field) => [field, String(tenant.policy[field])])) as Draft['numbers'],
  switches: Object.fromEntries(SWITCHES.map((field) => [field, tenant.policy[field]])) as Draft['switches'],
  allowedLoginMethods: [...tenant.policy.allowedLoginMethods],
  signInMethods: [...tenant.signInMethods],
  entraAdminGroupId: tenant.policy.entraAdminGroupId ?? '',
  jobRetentionHours: tenant.policy.jobRetentionHours === undefined ? '' : String(tenant.policy.jobRetentionHours),
  afterPrint: tenant.policy.afterPrint ?? 'keep',
  onViolation: tenant.policy.printRights?.onViolation ?? 'downgrade',
  rights: Object.fromEntries(
    ROLES.map((role) => {
      const rights = tenant.policy.printRights?.roles?.[role];
      return [
        role,
        {
          color: rights?.color !== false,
          duplexForced: rights?.duplexForced === true,
          maxCopies: rights?.maxCopies ? String(rights.maxCopies) : '',
        },
      ];
    }),
  ) as Draft['rights'],
});

/** The print rights the draft describes: only the limits set, per role; single users' rights kept as stored. */
function printRightsOf(draft: Draft, stored: PrintRightsPolicy | undefined): PrintRightsPolicy {
  const roles: Partial<Record<Role, PrintRights>> = {};
  for (const role of ROLES) {
    const { color, duplexForced, maxCopies } = draft.rights[role];
    const rights = {
      ...(color ? {} : { color: false }),
      ...(duplexForced ? { duplexForced: true } : {}),
      ...(maxCopies.trim() !== '' ? { maxCopies: typedNumber(maxCopies) as number } : {}),
    };
    if (Object.keys(rights).length) roles[role] = rights;
  }
  return {
    onViolation: draft.onViolation,
    ...(Object.keys(roles).length ? { roles } : {}),
    ...(stored?.users ? { users: stored.users } : {}),
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item) => b.includes(item));

/** The PATCH body: only what differs from the tenant as loaded; undefined when nothing does. */
function changesOf(tenant: Tenant, draft: Draft): { name?: string; policy?: Record<string, unknown> } | undefined {
  const policy: Record<string, unknown> = {};
  for (const field of NUMBERS) if (draft.numbers[field] !== String(tenant.policy[field])) policy[field] = typedNumber(draft.numbers[field]);
  for (const field of SWITCHES) if (draft.switches[field] !== tenant.policy[field]) policy[field] = draft.switches[field];
  if (!sameSet(draft.allowedLoginMethods, tenant.policy.allowedLoginMethods)) policy.allowedLoginMethods = draft.allowedLoginMethods;
  if (!sameSet(draft.signInMethods, tenant.signInMethods)) policy.signInMethods = draft.signInMethods;
  if (draft.entraAdminGroupId !== (tenant.policy.entraAdminGroupId ?? '')) policy.entraAdminGroupId = draft.entraAdminGroupId.trim();
  if (draft.afterPrint !== (tenant.policy.afterPrint ?? 'keep')) policy.afterPrint = draft.afterPrint;
  // Hours win over days while set. Emptied, they are removed by sending the days alone (the API's
  // rule); days sent while hours stay set carry the hours too, or the API would drop them.
  const hours = draft.jobRetentionHours.trim();
  if (hours !== '' && hours !== String(tenant.policy.jobRetentionHours ?? '')) policy.jobRetentionHours = typedNumber(hours);
  if (hours === '' && tenant.policy.jobRetentionHours !== undefined) policy.jobRetentionDays = typedNumber(draft.numbers.jobRetentionDays);
  if (hours !== '' && 'jobRetentionDays' in policy) policy.jobRetentionHours = typedNumber(hours);
  const rights = printRightsOf(draft, tenant.policy.printRights);
  if (JSON.stringify(rights) !== JSON.stringify(printRightsOf(draftOf(tenant), tenant.policy.printRights))) policy.printRights = rights;
  const body = { ...(draft.name !== tenant.name ? { name: draft.name } : {}), ...(Object.keys(policy).length ? { policy } : {}) };
  return Object.keys(body).length ? body : undefined;
}

const WORDS: Bilingual<{
  title: string;
  loading: string;
  loadFailed: string;
  saveFailed: string;
  seeFields: string;
  saved: string;
  nothingChanged: string;
  save: string;
  reset: string;
  facts: string;
  inForce: string;
  entraTenants: string;
  noEntra: string;
  waitingForAdmin: string;
  domains: string;
  noDomains: string;
  region: string;
  slug: string;
  methods: Record<'microsoft' | 'password', string>;
  printerMethods: Record<'qr' | 'pin' | 'password', string>;
  groups: Record<'organisation' | 'apps' | 'printers' | 'pins' | 'passwords' | 'lockout' | 'retention', string>;
  labels: Record<NumberField | SwitchField | 'name' | 'signInMethods' | 'allowedLoginMethods' | 'entraAdminGroupId', string>;
  hints: Record<NumberField | SwitchField | 'name' | 'signInMethods' | 'allowedLoginMethods' | 'entraAdminGroupId', string>;
  /** What a field takes, said after "Not accepted" when the API refuses it. */
  takes: Record<NumberField | 'name' | 'signInMethods' | 'allowedLoginMethods' | 'entraAdminGroupId', string>;
}> = {
  en: {
    title: 'Policy',
    loading: 'Loading the policy…',
    loadFailed: 'The policy could not be loaded',
    saveFailed: 'The policy was not saved',
    seeFields: 'See the fields marked below.',
    saved: 'The policy is saved. Other servers apply it within a minute.',
    nothingChanged: 'Nothing has changed: there is nothing to save.',
    save: 'Save',
    reset: 'Undo my changes',
    facts: 'This organisation',
    inForce: 'Sign-in methods in force',
    entraTenants: 'Connected Microsoft Entra ID organisations',
    noEntra: 'None yet. Connect one on the Identity page.',
    waitingForAdmin: 'Waiting for the first Microsoft administrator to sign in.',
    domains: 'Email domains (set by the operator)',
    noDomains: 'None',
    region: 'Region',
    slug: 'Organisation code',
    methods: { microsoft: 'Microsoft account', password: 'Roger password' },
    printerMethods: { qr: 'Scan the QR code with the app', pin: 'Type a PIN', password: 'Type a password' },
    groups: {
      organisation: 'Organisation',
      apps: 'Signing in to the apps',
      printers: 'Signing in at printers',
      pins: 'PINs',
      passwords: 'Passwords',
      lockout: 'Lockout after failed attempts',
      retention: 'Retention and sign-in history',
    },
    labels: {
      name: 'Organisation name',
      signInMethods: 'Ways to sign in to the apps',
      jitProvisioning: 'Create people at their first Microsoft sign-in',
      entraAdminGroupId: 'Entra ID administrators group (object ID)',
      allowedLoginMethods: 'Ways to sign in at a printer',
      printerFailedSignInLimit: 'Failed sign-ins per printer in 15 minutes',
      pinMinLength: 'Shortest PIN (digits)',
      pinDensity: 'Largest share of PINs in use',
      passwordMinLength: 'Shortest password (characters)',
      passwordNeedsLetterAndDigit: 'Passwords need a letter and a digit',
      lockoutThreshold: 'Failed attempts before a lock',
      lockoutSeconds: 'First lock (seconds)',
      jobRetentionDays: 'Keep print jobs (days)',
      loginHistoryDays: 'Keep sign-in history (days)',
      loginHistoryKeepsIp: 'Keep the IP address in the sign-in history',
    },
    hints: {
      name: 'Shown to people on the sign-in page and in the apps.',
      signInMethods: 'Password sign-in stays on until a Microsoft Entra ID organisation is connected.',
      jitProvisioning: 'Off: only people created beforehand (by hand or by SCIM) may sign in with Microsoft.',
      entraAdminGroupId: 'Members of this group are Roger administrators, besides those with the Roger.Admin app role.',
      allowedLoginMethods: 'Without PIN and password, nobody can type a secret at a printer.',
      printerFailedSignInLimit: 'Then the printer must wait: this stops common PINs being tried on many people. 5 to 1000.',
      pinMinLength: 'PINs Roger makes grow longer as the organisation grows. 4 to 12.',
      pinDensity: 'For example 0.001: one PIN in a thousand belongs to someone. Above 0, at most 0.1.',
      passwordMinLength: '8 to 64.',
      passwordNeedsLetterAndDigit: 'Applies to passwords set from now on.',
      lockoutThreshold: '3 to 20.',
      lockoutSeconds: 'Each further lock lasts twice as long, at most a day. 1 to 86400.',
      jobRetentionDays: 'Jobs not printed by then are deleted. 1 to 90.',
      loginHistoryDays: 'Older sign-ins are deleted. 1 to 365.',
      loginHistoryKeepsIp: 'Off: the history keeps the time and the app, not where from.',
    },
    takes: {
      name: 'a name of 1 to 200 characters.',
      signInMethods:
        'password sign-in can be turned off only once the organisation is connected to Microsoft Entra ID, and only if you keep a way to sign in.',
      allowedLoginMethods: 'one or more of the printer’s ways.',
      entraAdminGroupId: 'a group’s object ID, such as 0f8fad5b-d9cb-469f-a165-70867728950e.',
      printerFailedSignInLimit: 'a whole number from 5 to 1000.',
      pinMinLength: 'a whole number from 4 to 12.',
      pinDensity: 'a number above 0, at most 0.1.',
      passwordMinLength: 'a whole number from 8 to 64.',
      lockoutThreshold: 'a whole number from 3 to 20.',
      lockoutSeconds: 'a whole number from 1 to 86400.',
      jobRetentionDays: 'a whole number from 1 to 90.',
      loginHistoryDays: 'a whole number from 1 to 365.',
    },
  },
  fr: {
    title: 'Règles',
    loading: 'Chargement des règles…',
    loadFailed: 'Les règles n’ont pas pu être chargées',
    saveFailed: 'Les règles n’ont pas été enregistrées',
    seeFields: 'Voyez les champs signalés ci-dessous.',
    saved: 'Les règles sont enregistrées. Les autres serveurs les appliquent dans la minute.',
    nothingChanged: 'Rien n’a changé\u00a0: il n’y a rien à enregistrer.',
    save: 'Enregistrer',
    reset: 'Annuler mes modifications',
    facts: 'Cette organisation',
    inForce: 'Modes de connexion en vigueur',
    entraTenants: 'Organisations Microsoft Entra ID connectées',
    noEntra: 'Aucune pour l’instant. Connectez-en une depuis la page Identité.',
    waitingForAdmin: 'En attente de la première connexion d’un administrateur Microsoft.',
    domains: 'Domaines de messagerie (définis par l’opérateur)',
    noDomains: 'Aucun',
    region: 'Région',
    slug: 'Code de l’organisation',
    methods: { microsoft: 'Compte Microsoft', password: 'Mot de passe Roger' },
    printerMethods: { qr: 'Scanner le QR code avec l’application', pin: 'Saisir un code PIN', password: 'Saisir un mot de passe' },
    groups: {
      organisation: 'Organisation',
      apps: 'Connexion aux applications',
      printers: 'Connexion aux imprimantes',
      pins: 'Codes PIN',
      passwords: 'Mots de passe',
      lockout: 'Blocage après des échecs',
      retention: 'Conservation et historique des connexions',
    },
    labels: {
      name: 'Nom de l’organisation',
      signInMethods: 'Modes de connexion aux applications',
      jitProvisioning: 'Créer les personnes à leur première connexion Microsoft',
      entraAdminGroupId: 'Groupe des administrateurs Entra ID (ID d’objet)',
      allowedLoginMethods: 'Modes de connexion à une imprimante',
      printerFailedSignInLimit: 'Échecs de connexion par imprimante en 15\u00a0minutes',
      pinMinLength: 'Code PIN le plus court (chiffres)',
      pinDensity: 'Part maximale des codes PIN utilisés',
      passwordMinLength: 'Mot de passe le plus court (caractères)',
      passwordNeedsLetterAndDigit: 'Les mots de passe contiennent une lettre et un chiffre',
      lockoutThreshold: 'Échecs avant un blocage',
      lockoutSeconds: 'Premier blocage (secondes)',
      jobRetentionDays: 'Conserver les impressions (jours)',
      loginHistoryDays: 'Conserver l’historique des connexions (jours)',
      loginHistoryKeepsIp: 'Conserver l’adresse IP dans l’historique',
    },
    hints: {
      name: 'Affiché sur la page de connexion et dans les applications.',
      signInMethods: 'La connexion par mot de passe reste active tant qu’aucune organisation Microsoft Entra ID n’est connectée.',
      jitProvisioning:
        'Désactivé\u00a0: seules les personnes créées au préalable (à la main ou par SCIM) peuvent se connecter avec Microsoft.',
      entraAdminGroupId:
        'Les membres de ce groupe sont administrateurs de Roger, en plus de ceux qui ont le rôle d’application Roger.Admin.',
      allowedLoginMethods: 'Sans code PIN ni mot de passe, personne ne peut saisir de secret sur une imprimante.',
      printerFailedSignInLimit:
        'L’imprimante doit ensuite patienter\u00a0: cela empêche d’essayer des codes courants sur beaucoup de personnes. De 5 à 1000.',
      pinMinLength: 'Les codes PIN créés par Roger s’allongent quand l’organisation grandit. De 4 à 12.',
      pinDensity: 'Par exemple 0.001\u00a0: un code PIN sur mille appartient à quelqu’un. Plus de 0, au plus 0.1.',
      passwordMinLength: 'De 8 à 64.',
      passwordNeedsLetterAndDigit: 'S’applique aux mots de passe définis à partir de maintenant.',
      lockoutThreshold: 'De 3 à 20.',
      lockoutSeconds: 'Chaque blocage suivant dure deux fois plus longtemps, au plus un jour. De 1 à 86400.',
      jobRetentionDays: 'Les impressions non imprimées à cette date sont supprimées. De 1 à 90.',
      loginHistoryDays: 'Les connexions plus anciennes sont supprimées. De 1 à 365.',
      loginHistoryKeepsIp: 'Désactivé\u00a0: l’historique garde l’heure et l’application, pas la provenance.',
    },
    takes: {
      name: 'un nom de 1 à 200 caractères.',
      signInMethods:
        'la connexion par mot de passe ne peut être désactivée qu’une fois l’organisation connectée à Microsoft Entra ID, et seulement si vous gardez un moyen de vous connecter.',
      allowedLoginMethods: 'un ou plusieurs modes de l’imprimante.',
      entraAdminGroupId: 'l’ID d’objet d’un groupe, par exemple 0f8fad5b-d9cb-469f-a165-70867728950e.',
      printerFailedSignInLimit: 'un nombre entier de 5 à 1000.',
      pinMinLength: 'un nombre entier de 4 à 12.',
      pinDensity: 'un nombre supérieur à 0, au plus 0.1.',
      passwordMinLength: 'un nombre entier de 8 à 64.',
      lockoutThreshold: 'un nombre entier de 3 à 20.',
      lockoutSeconds: 'un nombre entier de 1 à 86400.',
      jobRetentionDays: 'un nombre entier de 1 à 90.',
      loginHistoryDays: 'un nombre entier de 1 à 365.',
    },
  },
};

/** The words of what happens after printing, retention in hours and print rights (issue 21). */
const PRINTING_WORDS: Bilingual<{
  afterPrintGroup: string;
  afterPrintLabel: string;
  afterPrintHint: string;
  afterPrint: Record<AfterPrint, string>;
  hoursLabel: string;
  hoursHint: string;
  hoursTakes: string;
  rightsGroup: string;
  rightsHint: string;
  ownRights: (count: number) => string;
  onViolationLabel: string;
  onViolation: Record<OnViolation, string>;
  roles: Record<Role, string>;
  color: string;
  duplexForced: string;
  maxCopies: string;
  maxCopiesHint: string;
  maxCopiesTakes: string;
}> = {
  en: {
    afterPrintGroup: 'After printing',
    afterPrintLabel: 'The file in the person’s OneDrive, once its job is printed, cancelled or expired',
    afterPrintHint:
      'Roger does it in the person’s OneDrive. If OneDrive cannot be reached, it is tried again later, and the job reads “File clean-up pending” meanwhile.',
    afterPrint: {
      keep: 'Keep it in the Print folder',
      delete: 'Delete it (it goes to the OneDrive recycle bin)',
      move: 'Move it to Print/Printed',
    },
    hoursLabel: 'Keep print jobs (hours)',
    hoursHint: 'Optional, 1 to 2160. When set, the hours win over the days; leave it empty to keep jobs by days.',
    hoursTakes: 'a whole number from 1 to 2160, or nothing.',
    rightsGroup: 'Print rights',
    rightsHint: 'Checked when jobs are released at a printer; the printer gets the options allowed.',
    ownRights: (count) => `${count} ${count === 1 ? 'person has' : 'people have'} rights of their own, which win over their role’s.`,
    onViolationLabel: 'A job that breaks these rights is',
    onViolation: {
      downgrade: 'Printed within them (black and white, both sides, fewer copies)',
      hold: 'Held in the queue, with the reason shown to its owner',
    },
    roles: { user: 'People', admin: 'Administrators' },
    color: 'Colour allowed',
    duplexForced: 'Always on both sides',
    maxCopies: 'Most copies of one job',
    maxCopiesHint: '1 to 999. Empty: no limit.',
    maxCopiesTakes: 'a whole number from 1 to 999, or nothing.',
  },
  fr: {
    afterPrintGroup: 'Après l’impression',
    afterPrintLabel: 'Le fichier dans le OneDrive de la personne, une fois l’impression faite, annulée ou expirée',
    afterPrintHint:
      'Roger s’en charge dans le OneDrive de la personne. Si OneDrive est injoignable, il réessaie plus tard, et l’impression indique «\u00a0Nettoyage du fichier en attente\u00a0» entre-temps.',
    afterPrint: {
      keep: 'Le garder dans le dossier Print',
      delete: 'Le supprimer (il va dans la corbeille OneDrive)',
      move: 'Le déplacer dans Print/Printed',
    },
    hoursLabel: 'Conserver les impressions (heures)',
    hoursHint:
      'Facultatif, de 1 à 2160. Quand elles sont indiquées, les heures l’emportent sur les jours\u00a0; laissez vide pour compter en jours.',
    hoursTakes: 'un nombre entier de 1 à 2160, ou rien.',
    rightsGroup: 'Droits d’impression',
    rightsHint: 'Vérifiés quand les impressions sont libérées à une imprimante\u00a0; l’imprimante reçoit les options permises.',
    ownRights: (count) =>
      `${count} ${count > 1 ? 'personnes ont des droits propres, qui l’emportent' : 'personne a des droits propres, qui l’emportent'} sur ceux de leur rôle.`,
    onViolationLabel: 'Une impression qui dépasse ces droits est',
    onViolation: {
      downgrade: 'Imprimée dans leurs limites (noir et blanc, recto verso, moins d’exemplaires)',
      hold: 'Retenue dans la file, avec la raison indiquée à la personne',
    },
    roles: { user: 'Personnes', admin: 'Administrateurs' },
    color: 'Couleur permise',
    duplexForced: 'Toujours en recto verso',
    maxCopies: 'Exemplaires au plus par impression',
    maxCopiesHint: 'De 1 à 999. Vide\u00a0: sans limite.',
    maxCopiesTakes: 'un nombre entier de 1 à 999, ou rien.',
  },
};

const useStyles = makeStyles({
  role: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, border: 'none', margin: 0, padding: 0, minWidth: 0 },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '720px' },
  card: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '720px' },
  facts: { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr)', gap: tokens.spacingVerticalS, margin: 0 },
  fact: { margin: 0, overflowWrap: 'anywhere' },
  term: { fontWeight: tokens.fontWeightSemibold },
  number: { maxWidth: '200px' },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
});

type Notice = { kind: 'saved' } | { kind: 'unchanged' } | { kind: 'failed'; error: unknown };

export function PolicyPage() {
  const styles = useStyles();
  const words = useWords(WORDS);
  const printing = useWords(PRINTING_WORDS);
  const read = useApiRead<Tenant>('/api/tenant');
  const load = read.state;
  const [draft, setDraft] = useState<Draft | undefined>();
  const [notice, setNotice] = useState<Notice | undefined>();
  const [saving, setSaving] = useState(false);
  const errors = useFieldErrors(notice?.kind === 'failed' ? notice.error : undefined);
  useEffect(() => {
    if (load.kind === 'loaded') setDraft((current) => current ?? draftOf(load.value));
  }, [load]);

  if (load.kind === 'loading' || (load.kind === 'loaded' && !draft)) {
    return (
      <Page title={words.title}>
        <Spinner label={words.loading} />
      </Page>
    );
  }
  if (load.kind === 'failed' || !draft) {
    return <Page title={words.title}>{load.kind === 'failed' && <ProblemBar problem={problemWords(load.error, words.loadFailed)} />}</Page>;
  }
  const tenant = load.value;
  const errorOf = (field: string, takes?: string) => errors.message(field, takes);
  const stateOf = errors.state;
  const unplaced = notice?.kind === 'failed' && errors.count === 0 ? problemWords(notice.error, words.saveFailed) : undefined;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const body = changesOf(tenant, draft);
    if (!body) return setNotice({ kind: 'unchanged' });
    setSaving(true);
    try {
      const saved = await apiJson<Tenant>('/api/tenant', { method: 'PATCH', body });
      read.set(saved);
      setDraft(draftOf(saved));
      setNotice({ kind: 'saved' });
    } catch (error) {
      setNotice({ kind: 'failed', error });
    } finally {
      setSaving(false);
    }
  };

  const numberField = (field: NumberField, error = errorOf(`policy.${field}`, words.takes[field])) => (
    <Field label={words.labels[field]} hint={words.hints[field]} validationMessage={error} validationState={stateOf(`policy.${field}`)}>
      <Input
        className={styles.number}
        inputMode={field === 'pinDensity' ? 'decimal' : 'numeric'}
        value={draft.numbers[field]}
        onChange={(_e, data) => setDraft({ ...draft, numbers: { ...draft.numbers, [field]: data.value } })}
      />
    </Field>
  );
  const switchField = (field: SwitchField) => (
    <Field hint={words.hints[field]} validationMessage={errorOf(`policy.${field}`)} validationState={stateOf(`policy.${field}`)}>
      <Switch
        label={words.labels[field]}
        checked={draft.switches[field]}
        onChange={(_e, data) => setDraft({ ...draft, switches: { ...draft.switches, [field]: data.checked } })}
      />
    </Field>
  );
  const toggle = <T extends string>(list: readonly T[], item: T, on: boolean): T[] =>
    on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item);

  return (
    <Page title={words.title}>
      <Card className={styles.card}>
        <Subtitle2 as="h3">{words.facts}</Subtitle2>
        <dl className={styles.facts}>
          <div className={styles.fact}>
            <dt className={styles.term}>{words.inForce}</dt>
            <dd className={styles.fact}>{tenant.signInMethods.map((m) => words.methods[m]).join(', ')}</dd>
          </div>
          <div className={styles.fact}>
            <dt className={styles.term}>{words.entraTenants}</dt>
            <dd className={styles.fact}>
              {tenant.entraTenantIds.length
                ? tenant.entraTenantIds.join(', ')
                : tenant.bindEntraOnFirstAdminSignIn
                  ? words.waitingForAdmin
                  : words.noEntra}
            </dd>
          </div>
          <div className={styles.fact}>
            <dt className={styles.term}>{words.domains}</dt>
            <dd className={styles.fact}>{tenant.emailDomains.length ? tenant.emailDomains.join(', ') : words.noDomains}</dd>
          </div>
          <div className={styles.fact}>
            <dt className={styles.term}>{words.slug}</dt>
            <dd className={styles.fact}>
              {tenant.slug} · {words.region} {tenant.region}
            </dd>
          </div>
        </dl>
      </Card>

      <form className={styles.form} onSubmit={(event) => void save(event)} noValidate>
        {notice?.kind === 'saved' && <DoneBar>{words.saved}</DoneBar>}
        {notice?.kind === 'unchanged' && (
          <MessageBar intent="info" role="status">
            <MessageBarBody>{words.nothingChanged}</MessageBarBody>
          </MessageBar>
        )}
        {notice?.kind === 'failed' && (
          <MessageBar intent="error" role="alert">
            <MessageBarBody>
              <MessageBarTitle>{words.saveFailed}</MessageBarTitle>
              {unplaced ? [unplaced.title, unplaced.detail].filter(Boolean).join(': ') : words.seeFields}
            </MessageBarBody>
          </MessageBar>
        )}

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.organisation}</Subtitle2>
          <Field
            label={words.labels.name}
            hint={words.hints.name}
            validationMessage={errorOf('name', words.takes.name)}
            validationState={stateOf('name')}
          >
            <Input value={draft.name} onChange={(_e, data) => setDraft({ ...draft, name: data.value })} />
          </Field>
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.apps}</Subtitle2>
          <Field
            label={words.labels.signInMethods}
            hint={words.hints.signInMethods}
            validationMessage={errorOf('policy.signInMethods', words.takes.signInMethods)}
            validationState={stateOf('policy.signInMethods')}
          >
            <CheckboxGroup>
              {(['microsoft', 'password'] as const).map((method) => (
                <Checkbox
                  key={method}
                  label={words.methods[method]}
                  checked={draft.signInMethods.includes(method)}
                  onChange={(_e, data) => setDraft({ ...draft, signInMethods: toggle(draft.signInMethods, method, data.checked === true) })}
                />
              ))}
            </CheckboxGroup>
          </Field>
          {switchField('jitProvisioning')}
          <Field
            label={words.labels.entraAdminGroupId}
            hint={words.hints.entraAdminGroupId}
            validationMessage={errorOf('policy.entraAdminGroupId', words.takes.entraAdminGroupId)}
            validationState={stateOf('policy.entraAdminGroupId')}
          >
            <Input
              value={draft.entraAdminGroupId}
              placeholder="00000000-0000-0000-0000-000000000000"
              onChange={(_e, data) => setDraft({ ...draft, entraAdminGroupId: data.value })}
            />
          </Field>
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.printers}</Subtitle2>
          <Field
            label={words.labels.allowedLoginMethods}
            hint={words.hints.allowedLoginMethods}
            validationMessage={errorOf('policy.allowedLoginMethods', words.takes.allowedLoginMethods)}
            validationState={stateOf('policy.allowedLoginMethods')}
          >
            <CheckboxGroup>
              {(['qr', 'pin', 'password'] as const).map((method) => (
                <Checkbox
                  key={method}
                  label={words.printerMethods[method]}
                  checked={draft.allowedLoginMethods.includes(method)}
                  onChange={(_e, data) =>
                    setDraft({ ...draft, allowedLoginMethods: toggle(draft.allowedLoginMethods, method, data.checked === true) })
                  }
                />
              ))}
            </CheckboxGroup>
          </Field>
          {numberField('printerFailedSignInLimit')}
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.pins}</Subtitle2>
          {numberField('pinMinLength')}
          {numberField('pinDensity')}
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.passwords}</Subtitle2>
          {numberField('passwordMinLength')}
          {switchField('passwordNeedsLetterAndDigit')}
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.lockout}</Subtitle2>
          {numberField('lockoutThreshold')}
          {numberField('lockoutSeconds')}
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{words.groups.retention}</Subtitle2>
          {numberField('jobRetentionDays')}
          <Field
            label={printing.hoursLabel}
            hint={printing.hoursHint}
            validationMessage={errorOf('policy.jobRetentionHours', printing.hoursTakes)}
            validationState={stateOf('policy.jobRetentionHours')}
          >
            <Input
              className={styles.number}
              inputMode="numeric"
              value={draft.jobRetentionHours}
              onChange={(_e, data) => setDraft({ ...draft, jobRetentionHours: data.value })}
            />
          </Field>
          {numberField('loginHistoryDays')}
          {switchField('loginHistoryKeepsIp')}
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{printing.afterPrintGroup}</Subtitle2>
          <Field
            label={printing.afterPrintLabel}
            hint={printing.afterPrintHint}
            validationMessage={errorOf('policy.afterPrint')}
            validationState={stateOf('policy.afterPrint')}
          >
            <RadioGroup value={draft.afterPrint} onChange={(_e, data) => setDraft({ ...draft, afterPrint: data.value as AfterPrint })}>
              {AFTER_PRINT.map((choice) => (
                <Radio key={choice} value={choice} label={printing.afterPrint[choice]} />
              ))}
            </RadioGroup>
          </Field>
        </Card>

        <Card className={styles.card}>
          <Subtitle2 as="h3">{printing.rightsGroup}</Subtitle2>
          <Text>{printing.rightsHint}</Text>
          {ROLES.map((role) => {
            const rights = draft.rights[role];
            const setRights = (change: Partial<Draft['rights'][Role]>) =>
              setDraft({ ...draft, rights: { ...draft.rights, [role]: { ...rights, ...change } } });
            const field = `policy.printRights.roles.${role}`;
            return (
              <fieldset key={role} className={styles.role}>
                <legend>
                  <Subtitle2>{printing.roles[role]}</Subtitle2>
                </legend>
                <Checkbox
                  label={printing.color}
                  checked={rights.color}
                  onChange={(_e, data) => setRights({ color: data.checked === true })}
                />
                <Checkbox
                  label={printing.duplexForced}
                  checked={rights.duplexForced}
                  onChange={(_e, data) => setRights({ duplexForced: data.checked === true })}
                />
                <Field
                  label={`${printing.maxCopies} (${printing.roles[role]})`}
                  hint={printing.maxCopiesHint}
                  validationMessage={errorOf(`${field}.maxCopies`, printing.maxCopiesTakes)}
                  validationState={stateOf(`${field}.maxCopies`)}
                >
                  <Input
                    className={styles.number}
                    inputMode="numeric"
                    value={rights.maxCopies}
                    onChange={(_e, data) => setRights({ maxCopies: data.value })}
                  />
                </Field>
              </fieldset>
            );
          })}
          <Field
            label={printing.onViolationLabel}
            validationMessage={errorOf('policy.printRights.onViolation')}
            validationState={stateOf('policy.printRights.onViolation')}
          >
            <RadioGroup value={draft.onViolation} onChange={(_e, data) => setDraft({ ...draft, onViolation: data.value as OnViolation })}>
              {(['downgrade', 'hold'] as const).map((choice) => (
                <Radio key={choice} value={choice} label={printing.onViolation[choice]} />
              ))}
            </RadioGroup>
          </Field>
          {Object.keys(tenant.policy.printRights?.users ?? {}).length > 0 && (
            <Text>{printing.ownRights(Object.keys(tenant.policy.printRights?.users ?? {}).length)}</Text>
          )}
        </Card>

        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={saving}>
            {saving ? <Spinner size="tiny" label={words.save} /> : words.save}
          </Button>
          <Button
            onClick={() => {
              setDraft(draftOf(tenant));
              setNotice(undefined);
            }}
          >
            {words.reset}
          </Button>
        </div>
      </form>
    </Page>
  );
}
