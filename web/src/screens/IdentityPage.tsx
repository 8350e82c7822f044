// Identity (/app/admin/identity): connect Microsoft Entra ID (POST /api/tenant/entra/connect gives
// Entra's admin-consent URL, opened in a new tab because leaving this page would lose the session
// held in memory; the connected organisations are read again when the tab regains focus), and the
// SCIM tokens an identity provider provisions people with: list, create (the token shown once,
// with the SCIM base URL to paste into Entra, never stored) and revoke after confirmation.
import {
  Badge,
  Button,
  Card,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Subtitle2,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { ConfirmDialog } from '../forms/confirm.js';
import { CopyButton } from '../forms/controls.js';
import { useFieldErrors } from '../forms/field-errors.js';
import { typedNumber } from '../forms/values.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';
import type { Tenant } from './PolicyPage.js';

interface ScimToken {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}
interface CreatedToken extends Omit<ScimToken, 'lastUsedAt' | 'revokedAt'> {
  token: string;
}

const WORDS: Bilingual<{
  title: string;
  entra: string;
  entraIntro: string;
  connected: string;
  none: string;
  waiting: string;
  connect: string;
  connecting: string;
  openConsent: string;
  consentTitle: string;
  consentReady: (time: string) => string;
  consentBack: string;
  connectFailed: string;
  tenantFailed: string;
  scim: string;
  scimIntro: string;
  baseUrl: string;
  loading: string;
  tokensFailed: string;
  noTokens: string;
  name: string;
  created: string;
  expires: string;
  lastUsed: string;
  never: string;
  status: string;
  active: string;
  revoked: string;
  expired: string;
  actions: string;
  revoke: string;
  revokeNamed: (name: string) => string;
  revokeTitle: (name: string) => string;
  revokeBody: string;
  revokeConfirm: string;
  keep: string;
  revokedNotice: (name: string) => string;
  revokeFailed: string;
  newToken: string;
  createTitle: string;
  nameHint: string;
  days: string;
  daysHint: string;
  create: string;
  cancel: string;
  createFailed: string;
  nameTakes: string;
  daysTakes: string;
  shownOnce: string;
  shownOnceBody: string;
  token: string;
  done: string;
  unnamed: string;
}> = {
  en: {
    title: 'Identity',
    entra: 'Microsoft Entra ID',
    entraIntro:
      'Connect your organisation’s Microsoft Entra ID so people sign in with their work account. An administrator of that organisation must give consent.',
    connected: 'Connected organisations (tenant IDs)',
    none: 'None yet.',
    waiting: 'Waiting for the first Microsoft administrator to sign in.',
    connect: 'Connect Microsoft Entra ID',
    connecting: 'Asking Microsoft…',
    openConsent: 'Open Microsoft’s consent page (new tab)',
    consentTitle: 'Microsoft’s consent page is ready.',
    consentReady: (time) => `The consent page is ready until ${time}. It opens in a new tab so that you stay signed in here.`,
    consentBack: 'When you are done there, come back to this tab: the list above is read again.',
    connectFailed: 'Microsoft Entra ID could not be connected',
    tenantFailed: 'The connected organisations could not be loaded',
    scim: 'SCIM tokens',
    scimIntro:
      'Your identity provider (for example Microsoft Entra ID) uses a SCIM token to create, change and remove people in Roger. Paste the SCIM address and a token into its provisioning settings.',
    baseUrl: 'SCIM address (Tenant URL)',
    loading: 'Loading the SCIM tokens…',
    tokensFailed: 'The SCIM tokens could not be loaded',
    noTokens: 'There are no SCIM tokens. Create one to connect your identity provider.',
    name: 'Name',
    created: 'Created',
    expires: 'Expires',
    lastUsed: 'Last used',
    never: 'Never',
    status: 'Status',
    active: 'Active',
    revoked: 'Revoked',
    expired: 'Expired',
    actions: 'Actions',
    revoke: 'Revoke',
    revokeNamed: (name) => `Revoke ${name}`,
    revokeTitle: (name) => `Revoke “${name}”?`,
    revokeBody: 'Your identity provider can no longer provision people with it. This cannot be undone.',
    revokeConfirm: 'Revoke the token',
    keep: 'Keep it',
    revokedNotice: (name) => `“${name}” is revoked.`,
    revokeFailed: 'The token was not revoked',
    newToken: 'New SCIM token',
    createTitle: 'New SCIM token',
    nameHint: 'To recognise it later, for example “Entra provisioning”.',
    days: 'Valid for (days)',
    daysHint: '1 to 730. Create a new one before it expires.',
    create: 'Create',
    cancel: 'Cancel',
    createFailed: 'The token was not created',
    nameTakes: 'up to 100 characters, no control characters.',
    daysTakes: 'a whole number of days from 1 to 730.',
    shownOnce: 'Copy the token now',
    shownOnceBody: 'This is the only time it is shown: Roger keeps only a fingerprint of it. Paste it into Secret Token.',
    token: 'Token',
    done: 'I have copied it',
    unnamed: '(no name)',
  },
  fr: {
    title: 'Identité',
    entra: 'Microsoft Entra ID',
    entraIntro:
      'Connectez le Microsoft Entra ID de votre organisation pour que chacun se connecte avec son compte professionnel. Un administrateur de cette organisation doit donner son consentement.',
    connected: 'Organisations connectées (ID de locataire)',
    none: 'Aucune pour l’instant.',
    waiting: 'En attente de la première connexion d’un administrateur Microsoft.',
    connect: 'Connecter Microsoft Entra ID',
    connecting: 'Demande à Microsoft…',
    openConsent: 'Ouvrir la page de consentement de Microsoft (nouvel onglet)',
    consentTitle: 'La page de consentement de Microsoft est prête.',
    consentReady: (time) =>
      `La page de consentement est disponible jusqu’à ${time}. Elle s’ouvre dans un nouvel onglet pour que vous restiez connecté ici.`,
    consentBack: 'Une fois terminé, revenez à cet onglet\u00a0: la liste ci-dessus est relue.',
    connectFailed: 'Microsoft Entra ID n’a pas pu être connecté',
    tenantFailed: 'Les organisations connectées n’ont pas pu être chargées',
    scim: 'Jetons SCIM',
    scimIntro:
      'Votre fournisseur d’identité (par exemple Microsoft Entra ID) utilise un jeton SCIM pour créer, modifier et retirer des personnes dans Roger. Collez l’adresse SCIM et un jeton dans ses réglages d’approvisionnement.',
    baseUrl: 'Adresse SCIM (URL du locataire)',
    loading: 'Chargement des jetons SCIM…',
    tokensFailed: 'Les jetons SCIM n’ont pas pu être chargés',
    noTokens: 'Il n’y a aucun jeton SCIM. Créez-en un pour connecter votre fournisseur d’identité.',
    name: 'Nom',
    created: 'Créé le',
    expires: 'Expire le',
    lastUsed: 'Dernière utilisation',
    never: 'Jamais',
    status: 'État',
    active: 'Actif',
    revoked: 'Révoqué',
    expired: 'Expiré',
    actions: 'Actions',
    revoke: 'Révoquer',
    revokeNamed: (name) => `Révoquer ${name}`,
    revokeTitle: (name) => `Révoquer « ${name} »\u00a0?`,
    revokeBody: 'Votre fournisseur d’identité ne pourra plus s’en servir. C’est définitif.',
    revokeConfirm: 'Révoquer le jeton',
    keep: 'Conserver',
    revokedNotice: (name) => `« ${name} » est révoqué.`,
    revokeFailed: 'Le jeton n’a pas été révoqué',
    newToken: 'Nouveau jeton SCIM',
    createTitle: 'Nouveau jeton SCIM',
    nameHint: 'Pour le reconnaître plus tard, par exemple «\u00a0Approvisionnement Entra\u00a0».',
    days: 'Valable (jours)',
    daysHint: 'De 1 à 730. Créez-en un nouveau avant son expiration.',
    create: 'Créer',
    cancel: 'Annuler',
    createFailed: 'Le jeton n’a pas été créé',
    nameTakes: '100\u00a0caractères au plus, sans caractère de contrôle.',
    daysTakes: 'un nombre entier de jours de 1 à 730.',
    shownOnce: 'Copiez le jeton maintenant',
    shownOnceBody:
      'Il n’est affiché qu’une seule fois\u00a0: Roger n’en garde qu’une empreinte. Collez-le dans «\u00a0Secret Token\u00a0».',
    token: 'Jeton',
    done: 'Je l’ai copié',
    unnamed: '(sans nom)',
  },
};

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '1000px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'end' },
  grow: { flexGrow: 1, minWidth: 0 },
  secret: { fontFamily: tokens.fontFamilyMonospace, width: '100%' },
  id: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
  name: { overflowWrap: 'anywhere' },
  wide: { '@media (max-width: 600px)': { display: 'none' } },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

export function IdentityPage() {
  const styles = useStyles();
  const [language] = useLanguage();
  const words = useWords(WORDS);
  const tenantRead = useApiRead<Tenant>('/api/tenant');
  const tenant = tenantRead.state;
  const tokensRead = useApiRead<{ items: ScimToken[] }>('/api/tenant/scim-tokens');
  const tokenList = tokensRead.state;
  const [consent, setConsent] = useState<{ adminConsentUrl: string; expiresAt: string } | { failed: unknown } | undefined>();
  const [connecting, setConnecting] = useState(false);
  const [creating, setCreating] = useState<{ name: string; days: string; error?: unknown; busy?: boolean } | undefined>();
  const [created, setCreated] = useState<CreatedToken | undefined>();
  const [revoking, setRevoking] = useState<ScimToken | undefined>();
  const [notice, setNotice] = useState<{ revoked: string } | { failed: unknown } | undefined>();

  const readTenant = tenantRead.reload;
  const readTokens = tokensRead.reload;

  useEffect(() => {
    // Back from Microsoft's consent page in the other tab: the organisation may be connected now.
    const again = () => {
      if (document.visibilityState === 'visible') readTenant();
    };
    window.addEventListener('focus', again);
    document.addEventListener('visibilitychange', again);
    return () => {
      window.removeEventListener('focus', again);
      document.removeEventListener('visibilitychange', again);
    };
  }, [readTenant]);

  const connect = async () => {
    setConnecting(true);
    try {
      setConsent(await apiJson<{ adminConsentUrl: string; expiresAt: string }>('/api/tenant/entra/connect', { method: 'POST' }));
    } catch (error) {
      setConsent({ failed: error });
    } finally {
      setConnecting(false);
    }
  };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (!creating) return;
    setCreating({ ...creating, busy: true });
    const body = { ...(creating.name.trim() ? { name: creating.name.trim() } : {}), expiresInDays: typedNumber(creating.days) };
    try {
      const token = await apiJson<CreatedToken>('/api/tenant/scim-tokens', { method: 'POST', body });
      setCreating(undefined);
      setCreated(token);
      readTokens();
    } catch (error) {
      setCreating({ ...creating, error, busy: false });
    }
  };

  const revoke = async (token: ScimToken) => {
    setRevoking(undefined);
    try {
      await apiJson<void>(`/api/tenant/scim-tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE' });
      setNotice({ revoked: token.name || words.unnamed });
      readTokens();
    } catch (error) {
      setNotice({ failed: error });
    }
  };

  const date = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  const scimUrl = `${location.origin}/scim/v2`;
  const statusOf = (token: ScimToken) =>
    token.revokedAt ? ('revoked' as const) : Date.parse(token.expiresAt) <= Date.now() ? ('expired' as const) : ('active' as const);
  const createErrors = useFieldErrors(creating?.error);
  const createOther = creating?.error && createErrors.count === 0 ? problemWords(creating.error, words.createFailed) : undefined;

  return (
    <Page title={words.title}>
      <Card className={styles.card}>
        <Subtitle2 as="h3">{words.entra}</Subtitle2>
        <Text>{words.entraIntro}</Text>
        {tenant.kind === 'loading' && <Spinner size="small" label={words.loading} />}
        {tenant.kind === 'failed' && (
          <ProblemBar problem={{ ...problemWords(tenant.error, words.tenantFailed), title: words.tenantFailed }} />
        )}
        {tenant.kind === 'loaded' && (
          <div>
            <Text weight="semibold" block>
              {words.connected}
            </Text>
            {tenant.value.entraTenantIds.length ? (
              <ul aria-label={words.connected}>
                {tenant.value.entraTenantIds.map((id) => (
                  <li key={id} className={styles.id}>
                    {id}
                  </li>
                ))}
              </ul>
            ) : (
              <Text block>{tenant.value.bindEntraOnFirstAdminSignIn ? words.waiting : words.none}</Text>
            )}
          </div>
        )}
        <div className={styles.row}>
          <Button appearance="primary" onClick={() => void connect()} disabled={connecting}>
            {connecting ? words.connecting : words.connect}
          </Button>
        </div>
        {consent && 'failed' in consent && (
          <ProblemBar problem={{ ...problemWords(consent.failed, words.connectFailed), title: words.connectFailed }} />
        )}
        {consent && 'adminConsentUrl' in consent && (
          <MessageBar intent="info" layout="multiline">
            <MessageBarBody>
              <MessageBarTitle>{words.consentTitle}</MessageBarTitle>
              {words.consentReady(date.format(new Date(consent.expiresAt)))}{' '}
              <Link href={consent.adminConsentUrl} target="_blank" rel="noopener noreferrer">
                {words.openConsent}
              </Link>{' '}
              {words.consentBack}
            </MessageBarBody>
          </MessageBar>
        )}
      </Card>

      <Card className={styles.card}>
        <Subtitle2 as="h3">{words.scim}</Subtitle2>
        <Text>{words.scimIntro}</Text>
        <div className={styles.row}>
          <Field className={styles.grow} label={words.baseUrl}>
            <Input readOnly value={scimUrl} className={styles.secret} />
          </Field>
          <CopyButton value={scimUrl} label={words.baseUrl} />
        </div>
        <div className={styles.row}>
          <Button appearance="primary" onClick={() => setCreating({ name: '', days: '365' })}>
            {words.newToken}
          </Button>
        </div>
        {notice && 'revoked' in notice && <DoneBar>{words.revokedNotice(notice.revoked)}</DoneBar>}
        {notice && 'failed' in notice && (
          <ProblemBar problem={{ ...problemWords(notice.failed, words.revokeFailed), title: words.revokeFailed }} />
        )}
        {tokenList.kind === 'loading' && <Spinner size="small" label={words.loading} />}
        {tokenList.kind === 'failed' && (
          <ProblemBar problem={{ ...problemWords(tokenList.error, words.tokensFailed), title: words.tokensFailed }} />
        )}
        {tokenList.kind === 'loaded' && tokenList.value.items.length === 0 && <Text>{words.noTokens}</Text>}
        {tokenList.kind === 'loaded' && tokenList.value.items.length > 0 && (
          <Table aria-label={words.scim}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell>{words.name}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.created}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.expires}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.lastUsed}</TableHeaderCell>
                <TableHeaderCell>{words.status}</TableHeaderCell>
                <TableHeaderCell>{words.actions}</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {tokenList.value.items.map((token) => {
                const status = statusOf(token);
                const name = token.name || words.unnamed;
                return (
                  <TableRow key={token.id}>
                    <TableCell className={styles.name}>{name}</TableCell>
                    <TableCell className={styles.wide}>{date.format(new Date(token.createdAt))}</TableCell>
                    <TableCell className={styles.wide}>{date.format(new Date(token.expiresAt))}</TableCell>
                    <TableCell className={styles.wide}>
                      {token.lastUsedAt ? date.format(new Date(token.lastUsedAt)) : words.never}
                    </TableCell>
                    <TableCell>
                      <Badge appearance="tint" color={status === 'active' ? 'success' : status === 'revoked' ? 'danger' : 'warning'}>
                        {words[status]}
                      </Badge>
                    </TableCell>
                    <TableCell>
                      {status === 'active' && (
                        <Button aria-label={words.revokeNamed(name)} onClick={() => setRevoking(token)}>
                          {words.revoke}
                        </Button>
                      )}
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
      </Card>

      <Dialog open={creating !== undefined} onOpenChange={(_e, data) => !data.open && setCreating(undefined)}>
        <DialogSurface>
          {creating && (
            <form onSubmit={(event) => void create(event)} noValidate>
              <DialogBody>
                <DialogTitle>{words.createTitle}</DialogTitle>
                <DialogContent className={styles.form}>
                  {createOther && (
                    <MessageBar intent="error" role="alert">
                      <MessageBarBody>
                        <MessageBarTitle>{words.createFailed}</MessageBarTitle>
                        {[createOther.title, createOther.detail].filter(Boolean).join(': ')}
                      </MessageBarBody>
                    </MessageBar>
                  )}
                  <Field
                    label={words.name}
                    hint={words.nameHint}
                    validationMessage={createErrors.message('name', words.nameTakes)}
                    validationState={createErrors.state('name')}
                  >
                    <Input value={creating.name} maxLength={100} onChange={(_e, data) => setCreating({ ...creating, name: data.value })} />
                  </Field>
                  <Field
                    label={words.days}
                    hint={words.daysHint}
                    validationMessage={createErrors.message('expiresInDays', words.daysTakes)}
                    validationState={createErrors.state('expiresInDays')}
                  >
                    <Input
                      inputMode="numeric"
                      value={creating.days}
                      onChange={(_e, data) => setCreating({ ...creating, days: data.value })}
                    />
                  </Field>
                </DialogContent>
                <DialogActions>
                  <Button appearance="primary" type="submit" disabled={creating.busy === true}>
                    {words.create}
                  </Button>
                  <DialogTrigger disableButtonEnhancement>
                    <Button>{words.cancel}</Button>
                  </DialogTrigger>
                </DialogActions>
              </DialogBody>
            </form>
          )}
        </DialogSurface>
      </Dialog>

      {/* The one-time token: held in this component's state only, gone when the dialog closes. */}
      <Dialog open={created !== undefined} modalType="alert">
        <DialogSurface>
          {created && (
            <DialogBody>
              <DialogTitle>{words.shownOnce}</DialogTitle>
              <DialogContent className={styles.form}>
                <MessageBar intent="warning" layout="multiline">
                  <MessageBarBody>{words.shownOnceBody}</MessageBarBody>
                </MessageBar>
                <div className={styles.row}>
                  <Field className={styles.grow} label={words.token}>
                    <Input readOnly value={created.token} className={styles.secret} />
                  </Field>
                  <CopyButton value={created.token} label={words.token} />
                </div>
                <div className={styles.row}>
                  <Field className={styles.grow} label={words.baseUrl}>
                    <Input readOnly value={scimUrl} className={styles.secret} />
                  </Field>
                  <CopyButton value={scimUrl} label={words.baseUrl} />
                </div>
              </DialogContent>
              <DialogActions>
                <Button appearance="primary" onClick={() => setCreated(undefined)}>
                  {words.done}
                </Button>
              </DialogActions>
            </DialogBody>
          )}
        </DialogSurface>
      </Dialog>

      <ConfirmDialog
        subject={revoking}
        title={(token) => words.revokeTitle(token.name || words.unnamed)}
        body={words.revokeBody}
        confirm={words.revokeConfirm}
        keep={words.keep}
        onConfirm={(token) => void revoke(token)}
        onClose={() => setRevoking(undefined)}
      />
    </Page>
  );
}
