// Pieces every screen uses, so that a page looks and reads the same everywhere: the page frame
// with its heading, a problem shown as plain words, and what an action did.
import { MessageBar, MessageBarBody, MessageBarTitle, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { useId, type ReactNode } from 'react';
import type { ProblemWords } from './problem.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

/** A screen: a section named by its h2, its content stacked below. */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const styles = useStyles();
  const id = useId();
  return (
    <section className={styles.stack} aria-labelledby={id}>
      <Title2 as="h2" id={id}>
        {title}
      </Title2>
      {children}
    </section>
  );
}

/** An API problem (or any failure) as an error bar: the title in bold, the detail after it. */
export function ProblemBar({ problem }: { problem: ProblemWords }) {
  return (
    <MessageBar intent="error">
      <MessageBarBody>
        <MessageBarTitle>{problem.title}</MessageBarTitle>
        {problem.detail}
      </MessageBarBody>
    </MessageBar>
  );
}

/** What an action did, as a success bar that screen readers announce (role="status"). */
export function DoneBar({ children }: { children: ReactNode }) {
  return (
    <MessageBar intent="success" role="status">
      <MessageBarBody>{children}</MessageBarBody>
    </MessageBar>
  );
}
