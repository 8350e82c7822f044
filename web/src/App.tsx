// The app's shell: the callback of the sign-in, then the screens of a signed-in person. Two paths
// only so far (/app/auth/callback and /app/), so no router library.
import {
  Button,
  Dropdown,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Option,
  Spinner,
  Title1,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { CALLBACK_PATH, completeSignIn, signIn, signedIn } from './auth.js';
import { setLanguage, useLanguage, type Language } from './i18n.js';
import { JobsPage } from './JobsPage.js';

const useStyles = makeStyles({
  header: {
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: { color: tokens.colorNeutralForegroundOnBrand },
  // Narrow enough for a phone's header beside the name (Fluent's default is 250px).
  language: { minWidth: '8.5rem', width: '8.5rem' },
  main: { maxWidth: '960px', margin: '0 auto', padding: tokens.spacingHorizontalL },
});

type Phase = { kind: 'signing-in' } | { kind: 'failed'; message: string } | { kind: 'ready' };

export function App() {
  const styles = useStyles();
  const [language, words] = useLanguage();
  const [phase, setPhase] = useState<Phase>(signedIn() ? { kind: 'ready' } : { kind: 'signing-in' });

  useEffect(() => {
    if (signedIn()) return;
    if (location.pathname === CALLBACK_PATH) {
      completeSignIn(new URL(location.href)).then(
        (returnTo) => {
          history.replaceState(null, '', returnTo);
          setPhase({ kind: 'ready' });
        },
        (error: unknown) => setPhase({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }),
      );
    } else {
      void signIn(`${location.pathname}${location.search}`).catch((error: unknown) =>
        setPhase({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }),
      );
    }
  }, []);

  return (
    <>
      <header className={styles.header}>
        <Title1 as="h1" className={styles.brand}>
          {words.appName}
        </Title1>
        <Dropdown
          className={styles.language}
          aria-label={words.language}
          value={language === 'fr' ? 'Français' : 'English'}
          selectedOptions={[language]}
          onOptionSelect={(_, data) => setLanguage(data.optionValue as Language)}
        >
          <Option value="en" lang="en">
            English
          </Option>
          <Option value="fr" lang="fr">
            Français
          </Option>
        </Dropdown>
      </header>
      <main className={styles.main}>
        {phase.kind === 'signing-in' && <Spinner label={words.signingIn} />}
        {phase.kind === 'failed' && (
          <MessageBar intent="error">
            <MessageBarBody>
              <MessageBarTitle>{words.signInFailed}</MessageBarTitle>
              {phase.message}{' '}
              <Button appearance="transparent" onClick={() => void signIn('/app/')}>
                {words.tryAgain}
              </Button>
            </MessageBarBody>
          </MessageBar>
        )}
        {phase.kind === 'ready' && <JobsPage />}
      </main>
    </>
  );
}
