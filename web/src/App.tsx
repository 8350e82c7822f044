// The app's shell. Sign-in and the "My jobs" screen come in the next slices (docs/web-app.md).
import { Title1 } from '@fluentui/react-components';

export function App() {
  return (
    <main>
      <Title1 as="h1">Roger</Title1>
    </main>
  );
}
