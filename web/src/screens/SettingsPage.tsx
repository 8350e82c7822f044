// Placeholder until this screen is built (issue 18): the page frame with its heading.
import { Text } from '@fluentui/react-components';
import { useLanguage } from '../i18n.js';
import { Page } from '../ui.js';

export function SettingsPage() {
  const [, words] = useLanguage();
  return (
    <Page title={words.loadingPage}>
      <Text>…</Text>
    </Page>
  );
}
