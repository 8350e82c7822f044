// The confirmation a destructive action asks for before it acts (revoke a token, remove a profile).
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
} from '@fluentui/react-components';
import type { ReactNode } from 'react';

/**
 * A modal dialog open while `subject` is set: `title(subject)`, what the action does (`body`), the
 * action itself as the primary button (`confirm`, which calls `onConfirm(subject)`), and `keep`,
 * which closes it as Escape does (`onClose`) and changes nothing.
 */
export function ConfirmDialog<T>({
  subject,
  title,
  body,
  confirm,
  keep,
  onConfirm,
  onClose,
}: {
  subject: T | undefined;
  title: (subject: T) => string;
  body: ReactNode;
  confirm: string;
  keep: string;
  onConfirm: (subject: T) => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={subject !== undefined} onOpenChange={(_e, data) => !data.open && onClose()}>
      <DialogSurface>
        {subject !== undefined && (
          <DialogBody>
            <DialogTitle>{title(subject)}</DialogTitle>
            <DialogContent>{body}</DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={() => onConfirm(subject)}>
                {confirm}
              </Button>
              <DialogTrigger disableButtonEnhancement>
                <Button>{keep}</Button>
              </DialogTrigger>
            </DialogActions>
          </DialogBody>
        )}
      </DialogSurface>
    </Dialog>
  );
}
