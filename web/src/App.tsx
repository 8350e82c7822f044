// The app's shell: the callback of the sign-in, then a signed-in person's screens with the
// navigation (inline beside the page on a desktop, behind a menu button on a phone). Which screen
// shows is the path under /app/ (screens/index.ts); screens load when first opened.
import {
  Button,
  Dropdown,
  Hamburger,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  NavDrawer,
  NavDrawerBody,
  NavItem,
  NavSectionHeader,
  Option,
  Spinner,
  Text,
  Title1,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { Suspense, useEffect, useState, useSyncExternalStore, type MouseEvent } from 'react';
import { CALLBACK_PATH, completeSignIn, signIn, signedIn } from './auth.js';
import { setLanguage, useLanguage, type Language } from './i18n.js';
import { isAdmin, useMe } from './me.js';
import { followLink, navigate, useLocation } from './router.js';
import { screenAt, screens } from './screens/index.js';
import { Page } from './ui.js';

const WIDE = '(min-width: 900px)';

const useStyles = makeStyles({
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: { color: tokens.colorNeutralForegroundOnBrand, flexGrow: 1 },
  menuButton: { color: tokens.colorNeutralForegroundOnBrand },
  // Narrow enough for a phone's header beside the name (Fluent's default is 250px).
  language: { minWidth: '8.5rem', width: '8.5rem' },
  layout: { display: 'flex', alignItems: 'stretch', minHeight: 'calc(100vh - 64px)' },
  // Fluent caps a drawer at the viewport's height; beside a long page it must grow with it.
  navigation: { height: 'auto', maxHeight: 'none', alignSelf: 'stretch' },
  main: { flexGrow: 1, minWidth: 0, maxWidth: '960px', margin: '0 auto', padding: tokens.spacingHorizontalL },
});

type Phase = { kind: 'signing-in' } | { kind: 'failed'; message: string } | { kind: 'ready' };

function useWide(): boolean {
  return useSyncExternalStore(
    (listener) => {
      const query = matchMedia(WIDE);
      query.addEventListener('change', listener);
      return () => query.removeEventListener('change', listener);
    },
    () => matchMedia(WIDE).matches,
  );
}

export function App() {
  const styles = useStyles();
  const [language, words] = useLanguage();
  const [phase, setPhase] = useState<Phase>(signedIn() ? { kind: 'ready' } : { kind: 'signing-in' });
  const wide = useWide();
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    if (signedIn()) return;
    if (location.pathname === CALLBACK_PATH) {
      completeSignIn(new URL(location.href)).then(
        (returnTo) => {
          navigate(returnTo, { replace: true });
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
        {phase.kind === 'ready' && !wide && (
          <Hamburger
            className={styles.menuButton}
            aria-label={words.menu}
            aria-expanded={menuOpen}
            onClick={() => setMenuOpen((open) => !open)}
          />
        )}
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
      {phase.kind === 'ready' ? (
        <div className={styles.layout}>
          <Navigation wide={wide} open={wide || menuOpen} onClose={() => setMenuOpen(false)} />
          <main className={styles.main}>
            <Screen />
          </main>
        </div>
      ) : (
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
        </main>
      )}
    </>
  );
}

/** The screens a person may open: everyone's, then the admin section for admins. */
function Navigation({ wide, open, onClose }: { wide: boolean; open: boolean; onClose: () => void }) {
  const styles = useStyles();
  const [, words] = useLanguage();
  const { pathname } = useLocation();
  const me = useMe();
  const admin = me.kind === 'loaded' && isAdmin(me.me);
  const current = screenAt(pathname)?.path;
  const item = (screen: (typeof screens)[number]) => (
    <NavItem
      key={screen.path}
      as="a"
      value={screen.path}
      href={screen.path}
      aria-current={screen.path === current ? 'page' : undefined}
      onClick={(event: MouseEvent<HTMLAnchorElement>) => {
        followLink(event, screen.path);
        onClose();
      }}
    >
      {words.nav[screen.nav]}
    </NavItem>
  );
  return (
    <NavDrawer
      className={wide ? styles.navigation : undefined}
      type={wide ? 'inline' : 'overlay'}
      open={open}
      onOpenChange={(_, data) => !data.open && onClose()}
      selectedValue={current ?? ''}
      aria-label={words.navigation}
    >
      <NavDrawerBody>
        {screens.filter((screen) => !screen.admin).map(item)}
        {admin && (
          <>
            <NavSectionHeader>{words.admin}</NavSectionHeader>
            {screens.filter((screen) => screen.admin).map(item)}
          </>
        )}
      </NavDrawerBody>
    </NavDrawer>
  );
}

/** The screen at the current path, loaded on first use; admin screens wait for /api/me. */
function Screen() {
  const [, words] = useLanguage();
  const { pathname } = useLocation();
  const me = useMe();
  const screen = screenAt(pathname);
  if (!screen) {
    return (
      <Page title={words.notFound}>
        <Text>{words.notFoundBody}</Text>
        <Link href="/app/" onClick={(event) => followLink(event, '/app/')}>
          {words.goHome}
        </Link>
      </Page>
    );
  }
  if (screen.admin) {
    if (me.kind === 'loading') return <Spinner label={words.loadingPage} />;
    if (me.kind === 'loaded' && !isAdmin(me.me)) return <Page title={words.adminOnly}>{null}</Page>;
  }
  const Component = screen.component;
  return (
    <Suspense fallback={<Spinner label={words.loadingPage} />}>
      <Component key={screen.path} />
    </Suspense>
  );
}
