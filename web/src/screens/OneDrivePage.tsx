// "OneDrive" (docs/web-app.md#printing-a-file-and-onedrive): the link's status from /api/me,
// Connect or Reconnect (Microsoft's consent page opens in a new tab: leaving this one would lose
// the sign-in, which lives only in memory; the status is read again when the person comes back
// and a few times meanwhile), and Disconnect after confirmation (DELETE /api/onedrive).
import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';
import { reloadMe, useMe } from '../me.js';
import type { ProblemWords } from '../problem.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';

/** While waiting for the person to come back from Microsoft: read the status this often, this many times. */
const POLL_SECONDS = 3;
const POLLS = 40;

const WORDS: Bilingual<{
  title: string;
  loading: string;
  loadFailed: string;
  status: string;
  connected: string;
  notConnected: string;
  reconnectRequired: string;
  connectedSince: (date: string) => string;
  aboutConnected: string;
  aboutNotConnected: string;
  aboutReconnect: string;
  connect: string;
  reconnect: string;
  disconnect: string;
  connectFailed: string;
  waitingTitle: string;
  waiting: string;
  openAgain: string;
  disconnectTitle: string;
  disconnectBody: string;
  disconnectConfirm: string;
  keep: string;
  disconnectFailed: string;
  disconnected: string;
  nowConnected: string;
}> = {
  en: {
    title: 'OneDrive',
    loading: 'Reading your OneDrive status…',
    loadFailed: 'Your OneDrive status could not be read',
    status: 'Status',
    connected: 'Connected',
    notConnected: 'Not connected',
    reconnectRequired: 'Reconnect needed',
    connectedSince: (date) => `Connected since ${date}.`,
    aboutConnected:
      'Documents you print go to the Print folder of your OneDrive, and scans arrive in its Scan folder. Roger keeps no copy.',
    aboutNotConnected:
      'Roger keeps your documents in your own OneDrive: the Print folder for what you print, the Scan folder for scans. Connect it to print files.',
    aboutReconnect:
      'Roger can no longer reach your OneDrive: the permission was withdrawn or has lapsed. Reconnect to print and scan again; your files are still there.',
    connect: 'Connect OneDrive',
    reconnect: 'Reconnect OneDrive',
    disconnect: 'Disconnect',
    connectFailed: 'OneDrive could not be connected',
    waitingTitle: 'Finish in the new tab',
    waiting:
      'Microsoft’s page opened in a new tab. Agree there, then come back to this tab: the status updates by itself. This tab stays open so you stay signed in.',
    openAgain: 'Open Microsoft’s page again',
    disconnectTitle: 'Disconnect OneDrive?',
    disconnectBody:
      'Roger will no longer put documents in your OneDrive or read them from it. Files already there stay. Queued jobs cannot print until you connect again.',
    disconnectConfirm: 'Disconnect',
    keep: 'Keep it connected',
    disconnectFailed: 'OneDrive could not be disconnected',
    disconnected: 'OneDrive is disconnected.',
    nowConnected: 'OneDrive is connected. You can print files now.',
  },
  fr: {
    title: 'OneDrive',
    loading: 'Lecture de l’état de votre OneDrive…',
    loadFailed: 'L’état de votre OneDrive n’a pas pu être lu',
    status: 'État',
    connected: 'Connecté',
    notConnected: 'Non connecté',
    reconnectRequired: 'À reconnecter',
    connectedSince: (date) => `Connecté depuis le ${date}.`,
    aboutConnected:
      'Les documents que vous imprimez vont dans le dossier Print de votre OneDrive, et les numérisations arrivent dans son dossier Scan. Roger n’en garde aucune copie.',
    aboutNotConnected:
      'Roger garde vos documents dans votre propre OneDrive\u00a0: le dossier Print pour ce que vous imprimez, le dossier Scan pour les numérisations. Connectez-le pour imprimer des fichiers.',
    aboutReconnect:
      'Roger ne peut plus atteindre votre OneDrive\u00a0: l’autorisation a été retirée ou a expiré. Reconnectez-le pour imprimer et numériser à nouveau\u00a0; vos fichiers y sont toujours.',
    connect: 'Connecter OneDrive',
    reconnect: 'Reconnecter OneDrive',
    disconnect: 'Déconnecter',
    connectFailed: 'OneDrive n’a pas pu être connecté',
    waitingTitle: 'Terminez dans le nouvel onglet',
    waiting:
      'La page de Microsoft s’est ouverte dans un nouvel onglet. Acceptez-y, puis revenez à cet onglet\u00a0: l’état se met à jour tout seul. Cet onglet reste ouvert pour que vous restiez connecté.',
    openAgain: 'Rouvrir la page de Microsoft',
    disconnectTitle: 'Déconnecter OneDrive\u00a0?',
    disconnectBody:
      'Roger ne déposera plus de documents dans votre OneDrive et n’y lira plus rien. Les fichiers déjà présents restent. Les impressions en attente ne pourront pas sortir avant une nouvelle connexion.',
    disconnectConfirm: 'Déconnecter',
    keep: 'Garder la connexion',
    disconnectFailed: 'OneDrive n’a pas pu être déconnecté',
    disconnected: 'OneDrive est déconnecté.',
    nowConnected: 'OneDrive est connecté. Vous pouvez maintenant imprimer des fichiers.',
  },
};

const useStyles = makeStyles({
  status: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
  text: { maxWidth: '640px' },
});

type Notice = 'disconnected' | 'connected' | undefined;

export function OneDrivePage() {
  const words = useWords(WORDS);
  const [language] = useLanguage();
  const styles = useStyles();
  const me = useMe();
  const [waitingUrl, setWaitingUrl] = useState<string | undefined>();
  const [problem, setProblem] = useState<ProblemWords | undefined>();
  const [notice, setNotice] = useState<Notice>();
  const [busy, setBusy] = useState(false);
  const status = me.kind === 'loaded' ? (me.me.onedrive?.status ?? 'not-connected') : undefined;
  // Fresh on every visit: the link may have lapsed or been connected elsewhere since the app loaded.
  useEffect(() => void reloadMe(), []);

  // Back from Microsoft's tab: read the status when this tab is shown again, and a few times meanwhile.
  useEffect(() => {
    if (!waitingUrl) return;
    let polls = 0;
    const check = () => void reloadMe();
    const onVisible = () => {
      if (document.visibilityState === 'visible') check();
    };
    window.addEventListener('focus', check);
    document.addEventListener('visibilitychange', onVisible);
    const timer = setInterval(() => {
      polls += 1;
      if (polls > POLLS) clearInterval(timer);
      else check();
    }, POLL_SECONDS * 1000);
    return () => {
      window.removeEventListener('focus', check);
      document.removeEventListener('visibilitychange', onVisible);
      clearInterval(timer);
    };
  }, [waitingUrl]);

  // The connection finished in the other tab.
  useEffect(() => {
    if (waitingUrl && status === 'connected') {
      setWaitingUrl(undefined);
      setNotice('connected');
    }
  }, [waitingUrl, status]);

  if (me.kind === 'loading') return <Spinner label={words.loading} />;
  if (me.kind === 'failed') return <ProblemBar problem={problemWords(me.error, words.loadFailed)} />;

  const connect = async () => {
    setBusy(true);
    setProblem(undefined);
    setNotice(undefined);
    try {
      const { authorizationUrl } = await apiJson<{ authorizationUrl: string }>('/api/onedrive/connect');
      // A new tab, without a handle back to this one; the link below opens it again if it was blocked.
      window.open(authorizationUrl, '_blank', 'noopener');
      setWaitingUrl(authorizationUrl);
    } catch (error) {
      setProblem(problemWords(error, words.connectFailed));
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      await apiJson('/api/onedrive', { method: 'DELETE' });
      await reloadMe();
      setNotice('disconnected');
    } catch (error) {
      setProblem(problemWords(error, words.disconnectFailed));
    } finally {
      setBusy(false);
    }
  };

  const connectedAt = me.me.onedrive?.connectedAt;
  const badge =
    status === 'connected' ? (
      <Badge color="success">{words.connected}</Badge>
    ) : status === 'reconnect-required' ? (
      <Badge color="warning">{words.reconnectRequired}</Badge>
    ) : (
      <Badge color="informative">{words.notConnected}</Badge>
    );

  return (
    <Page title={words.title}>
      <div className={styles.status}>
        <Text weight="semibold">{words.status}</Text>
        {badge}
      </div>
      {status === 'connected' && connectedAt && (
        <Text>
          {words.connectedSince(new Intl.DateTimeFormat(language, { dateStyle: 'long', timeStyle: 'short' }).format(new Date(connectedAt)))}
        </Text>
      )}
      <Text className={styles.text}>
        {status === 'connected' ? words.aboutConnected : status === 'reconnect-required' ? words.aboutReconnect : words.aboutNotConnected}
      </Text>
      {notice && <DoneBar>{notice === 'connected' ? words.nowConnected : words.disconnected}</DoneBar>}
      {problem && <ProblemBar problem={problem} />}
      {waitingUrl && (
        <MessageBar intent="info">
          <MessageBarBody>
            <MessageBarTitle>{words.waitingTitle}</MessageBarTitle>
            {words.waiting}{' '}
            <Link href={waitingUrl} target="_blank" rel="noopener noreferrer">
              {words.openAgain}
            </Link>
          </MessageBarBody>
        </MessageBar>
      )}
      <div className={styles.actions}>
        {status !== 'connected' && (
          <Button appearance="primary" disabled={busy} onClick={() => void connect()}>
            {status === 'reconnect-required' ? words.reconnect : words.connect}
          </Button>
        )}
        {status !== 'not-connected' && (
          <Dialog>
            <DialogTrigger disableButtonEnhancement>
              <Button disabled={busy}>{words.disconnect}</Button>
            </DialogTrigger>
            <DialogSurface>
              <DialogBody>
                <DialogTitle>{words.disconnectTitle}</DialogTitle>
                <DialogContent>{words.disconnectBody}</DialogContent>
                <DialogActions>
                  <DialogTrigger disableButtonEnhancement>
                    <Button appearance="primary" onClick={() => void disconnect()}>
                      {words.disconnectConfirm}
                    </Button>
                  </DialogTrigger>
                  <DialogTrigger disableButtonEnhancement>
                    <Button>{words.keep}</Button>
                  </DialogTrigger>
                </DialogActions>
              </DialogBody>
            </DialogSurface>
          </Dialog>
        )}
      </div>
    </Page>
  );
}
