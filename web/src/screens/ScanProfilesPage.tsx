// Scan profiles (/app/admin/scan-profiles): the tenant's profiles (GET /api/scan-profiles, every
// one for an admin), create and edit in a dialog whose fields show the API's validation words,
// delete after confirmation. Who may use a profile is by role here; people named one by one
// (userIds, set through the API) are kept and counted.
import {
  Button,
  Checkbox,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Spinner,
  Switch,
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
import { useState, type FormEvent } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { ConfirmDialog } from '../forms/confirm.js';
import { CheckboxGroup } from '../forms/controls.js';
import { useFieldErrors } from '../forms/field-errors.js';
import { useWords, type Bilingual } from '../i18n.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';

type Format = 'pdf' | 'jpeg' | 'tiff' | 'png';
type Color = 'color' | 'grayscale' | 'monochrome';
type Role = 'user' | 'admin';
interface Profile {
  id: string;
  name: string;
  format: Format;
  resolution: number;
  color: Color;
  duplex: boolean;
  roles: Role[];
  userIds: string[];
}
type Settings = Omit<Profile, 'id'>;

const FORMATS: Format[] = ['pdf', 'jpeg', 'tiff', 'png'];
const RESOLUTIONS = [150, 200, 300, 400, 600];
const COLORS: Color[] = ['color', 'grayscale', 'monochrome'];
const ROLES: Role[] = ['user', 'admin'];
const NEW: Settings = { name: '', format: 'pdf', resolution: 300, color: 'color', duplex: false, roles: ['user', 'admin'], userIds: [] };

const WORDS: Bilingual<{
  title: string;
  intro: string;
  loading: string;
  loadFailed: string;
  empty: string;
  create: string;
  edit: string;
  editNamed: (name: string) => string;
  remove: string;
  removeNamed: (name: string) => string;
  removeTitle: (name: string) => string;
  removeBody: string;
  removeConfirm: string;
  keep: string;
  cancel: string;
  save: string;
  createTitle: string;
  editTitle: string;
  saveFailed: string;
  removeFailed: string;
  created: (name: string) => string;
  changed: (name: string) => string;
  removed: (name: string) => string;
  nameTakes: string;
  whoTakes: string;
  name: string;
  nameHint: string;
  format: string;
  resolution: string;
  dpi: (n: number) => string;
  color: string;
  colors: Record<Color, string>;
  duplex: string;
  duplexHint: string;
  yes: string;
  no: string;
  who: string;
  whoHint: string;
  roles: Record<Role, string>;
  people: (n: number) => string;
  nobody: string;
  actions: string;
}> = {
  en: {
    title: 'Scan profiles',
    intro: 'A scan profile is a ready-made set of scan settings that people pick on the printer’s panel.',
    loading: 'Loading the scan profiles…',
    loadFailed: 'The scan profiles could not be loaded',
    empty: 'There are no scan profiles yet. Create one so people can scan at a printer.',
    create: 'New scan profile',
    edit: 'Edit',
    editNamed: (name) => `Edit ${name}`,
    remove: 'Delete',
    removeNamed: (name) => `Delete ${name}`,
    removeTitle: (name) => `Delete “${name}”?`,
    removeBody: 'People will no longer see it on printer panels. Scans already made are not affected.',
    removeConfirm: 'Delete the profile',
    keep: 'Keep it',
    cancel: 'Cancel',
    save: 'Save',
    createTitle: 'New scan profile',
    editTitle: 'Edit the scan profile',
    saveFailed: 'The scan profile was not saved',
    removeFailed: 'The scan profile was not deleted',
    created: (name) => `“${name}” is created.`,
    changed: (name) => `“${name}” is saved.`,
    removed: (name) => `“${name}” is deleted.`,
    nameTakes: '1 to 80 characters, no control characters.',
    whoTakes: 'admins, users, or both.',
    name: 'Name',
    nameHint: 'As people see it on the printer’s panel. Up to 80 characters.',
    format: 'File format',
    resolution: 'Resolution',
    dpi: (n) => `${n} dpi`,
    color: 'Colour',
    colors: { color: 'Colour', grayscale: 'Greyscale', monochrome: 'Black and white' },
    duplex: 'Both sides',
    duplexHint: 'Scan the back of each page too.',
    yes: 'Yes',
    no: 'No',
    who: 'Who may use it',
    whoHint: 'People with one of these roles; people named through the API keep their access.',
    roles: { user: 'Users', admin: 'Administrators' },
    people: (n) => (n === 1 ? '1 person named' : `${n} people named`),
    nobody: 'Nobody yet',
    actions: 'Actions',
  },
  fr: {
    title: 'Profils de numérisation',
    intro: 'Un profil de numérisation est un ensemble de réglages prêt à l’emploi, que l’on choisit sur le panneau de l’imprimante.',
    loading: 'Chargement des profils de numérisation…',
    loadFailed: 'Les profils de numérisation n’ont pas pu être chargés',
    empty: 'Il n’y a encore aucun profil de numérisation. Créez-en un pour permettre de numériser à une imprimante.',
    create: 'Nouveau profil',
    edit: 'Modifier',
    editNamed: (name) => `Modifier ${name}`,
    remove: 'Supprimer',
    removeNamed: (name) => `Supprimer ${name}`,
    removeTitle: (name) => `Supprimer « ${name} »\u00a0?`,
    removeBody: 'Il n’apparaîtra plus sur le panneau des imprimantes. Les numérisations déjà faites ne changent pas.',
    removeConfirm: 'Supprimer le profil',
    keep: 'Conserver',
    cancel: 'Annuler',
    save: 'Enregistrer',
    createTitle: 'Nouveau profil de numérisation',
    editTitle: 'Modifier le profil de numérisation',
    saveFailed: 'Le profil de numérisation n’a pas été enregistré',
    removeFailed: 'Le profil de numérisation n’a pas été supprimé',
    created: (name) => `« ${name} » est créé.`,
    changed: (name) => `« ${name} » est enregistré.`,
    removed: (name) => `« ${name} » est supprimé.`,
    nameTakes: 'de 1 à 80\u00a0caractères, sans caractère de contrôle.',
    whoTakes: 'les administrateurs, les utilisateurs, ou les deux.',
    name: 'Nom',
    nameHint: 'Tel qu’il apparaît sur le panneau de l’imprimante. 80\u00a0caractères au plus.',
    format: 'Format de fichier',
    resolution: 'Résolution',
    dpi: (n) => `${n}\u00a0ppp`,
    color: 'Couleur',
    colors: { color: 'Couleur', grayscale: 'Niveaux de gris', monochrome: 'Noir et blanc' },
    duplex: 'Recto verso',
    duplexHint: 'Numériser aussi le verso de chaque page.',
    yes: 'Oui',
    no: 'Non',
    who: 'Qui peut l’utiliser',
    whoHint: 'Les personnes ayant l’un de ces rôles\u00a0; les personnes désignées par l’API gardent leur accès.',
    roles: { user: 'Utilisateurs', admin: 'Administrateurs' },
    people: (n) => (n === 1 ? '1\u00a0personne désignée' : `${n}\u00a0personnes désignées`),
    nobody: 'Personne pour l’instant',
    actions: 'Actions',
  },
};

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
  name: { overflowWrap: 'anywhere', fontWeight: tokens.fontWeightSemibold },
  wide: { '@media (max-width: 600px)': { display: 'none' } },
  // At phone width the settings move under the name.
  narrow: {
    display: 'none',
    fontWeight: tokens.fontWeightRegular,
    color: tokens.colorNeutralForeground2,
    '@media (max-width: 600px)': { display: 'block' },
  },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

type Notice = { kind: 'created' | 'changed' | 'removed'; name: string } | { kind: 'remove-failed'; error: unknown };
type Editing = { id?: string; settings: Settings; error?: unknown; saving?: boolean };

export function ScanProfilesPage() {
  const styles = useStyles();
  const words = useWords(WORDS);
  const list = useApiRead<{ items: Profile[] }>('/api/scan-profiles');
  const load = list.state;
  const [notice, setNotice] = useState<Notice | undefined>();
  const [editing, setEditing] = useState<Editing | undefined>();
  const [removing, setRemoving] = useState<Profile | undefined>();

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!editing) return;
    setEditing({ ...editing, saving: true });
    try {
      const saved = editing.id
        ? await apiJson<Profile>(`/api/scan-profiles/${encodeURIComponent(editing.id)}`, { method: 'PATCH', body: editing.settings })
        : await apiJson<Profile>('/api/scan-profiles', { method: 'POST', body: editing.settings });
      setEditing(undefined);
      setNotice({ kind: editing.id ? 'changed' : 'created', name: saved.name });
      list.reload();
    } catch (error) {
      setEditing({ ...editing, error, saving: false });
    }
  };

  const remove = async (profile: Profile) => {
    setRemoving(undefined);
    try {
      await apiJson<void>(`/api/scan-profiles/${encodeURIComponent(profile.id)}`, { method: 'DELETE' });
      setNotice({ kind: 'removed', name: profile.name });
      list.reload();
    } catch (error) {
      setNotice({ kind: 'remove-failed', error });
    }
  };

  const who = (profile: Profile) =>
    [...profile.roles.map((role) => words.roles[role]), ...(profile.userIds.length ? [words.people(profile.userIds.length)] : [])].join(
      ', ',
    ) || words.nobody;

  return (
    <Page title={words.title}>
      <Text>{words.intro}</Text>
      <div className={styles.bar}>
        <Button appearance="primary" onClick={() => setEditing({ settings: { ...NEW, roles: [...NEW.roles] } })}>
          {words.create}
        </Button>
      </div>
      {notice && notice.kind !== 'remove-failed' && <DoneBar>{words[notice.kind](notice.name)}</DoneBar>}
      {notice?.kind === 'remove-failed' && (
        <ProblemBar problem={{ ...problemWords(notice.error, words.removeFailed), title: words.removeFailed }} />
      )}
      {load.kind === 'loading' && <Spinner label={words.loading} />}
      {load.kind === 'failed' && <ProblemBar problem={{ ...problemWords(load.error, words.loadFailed), title: words.loadFailed }} />}
      {load.kind === 'loaded' && load.value.items.length === 0 && <Text>{words.empty}</Text>}
      {load.kind === 'loaded' && load.value.items.length > 0 && (
        <Table aria-label={words.title}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{words.name}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.format}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.resolution}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.color}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.duplex}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.who}</TableHeaderCell>
              <TableHeaderCell>{words.actions}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {load.value.items.map((profile) => (
              <TableRow key={profile.id}>
                <TableCell className={styles.name}>
                  {profile.name}
                  <span className={styles.narrow}>
                    {[profile.format.toUpperCase(), words.dpi(profile.resolution), words.colors[profile.color]].join(' · ')}
                  </span>
                </TableCell>
                <TableCell className={styles.wide}>{profile.format.toUpperCase()}</TableCell>
                <TableCell className={styles.wide}>{words.dpi(profile.resolution)}</TableCell>
                <TableCell className={styles.wide}>{words.colors[profile.color]}</TableCell>
                <TableCell className={styles.wide}>{profile.duplex ? words.yes : words.no}</TableCell>
                <TableCell className={styles.wide}>{who(profile)}</TableCell>
                <TableCell>
                  <div className={styles.actions}>
                    <Button
                      aria-label={words.editNamed(profile.name)}
                      onClick={() => {
                        const { id, ...settings } = profile;
                        setEditing({ id, settings: { ...settings, roles: [...settings.roles], userIds: [...settings.userIds] } });
                      }}
                    >
                      {words.edit}
                    </Button>
                    <Button aria-label={words.removeNamed(profile.name)} onClick={() => setRemoving(profile)}>
                      {words.remove}
                    </Button>
                  </div>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}

      <Dialog open={editing !== undefined} onOpenChange={(_e, data) => !data.open && setEditing(undefined)}>
        <DialogSurface>{editing && <ProfileForm editing={editing} onChange={setEditing} onSubmit={save} />}</DialogSurface>
      </Dialog>

      <ConfirmDialog
        subject={removing}
        title={(profile) => words.removeTitle(profile.name)}
        body={words.removeBody}
        confirm={words.removeConfirm}
        keep={words.keep}
        onConfirm={(profile) => void remove(profile)}
        onClose={() => setRemoving(undefined)}
      />
    </Page>
  );
}

function ProfileForm({
  editing,
  onChange,
  onSubmit,
}: {
  editing: Editing;
  onChange: (editing: Editing) => void;
  onSubmit: (event: FormEvent) => Promise<void>;
}) {
  const styles = useStyles();
  const words = useWords(WORDS);
  const { settings } = editing;
  const errors = useFieldErrors(editing.error);
  const set = (change: Partial<Settings>) => onChange({ ...editing, settings: { ...settings, ...change } });
  const takes: Partial<Record<string, string>> = { name: words.nameTakes, roles: words.whoTakes };
  const message = (field: string) => errors.message(field, takes[field]);
  const state = errors.state;
  const other = editing.error && errors.count === 0 ? problemWords(editing.error, words.saveFailed) : undefined;
  return (
    <form onSubmit={(event) => void onSubmit(event)} noValidate>
      <DialogBody>
        <DialogTitle>{editing.id ? words.editTitle : words.createTitle}</DialogTitle>
        <DialogContent className={styles.form}>
          {other && (
            <MessageBar intent="error" role="alert">
              <MessageBarBody>
                <MessageBarTitle>{words.saveFailed}</MessageBarTitle>
                {[other.title, other.detail].filter(Boolean).join(': ')}
              </MessageBarBody>
            </MessageBar>
          )}
          <Field label={words.name} hint={words.nameHint} validationMessage={message('name')} validationState={state('name')}>
            <Input value={settings.name} onChange={(_e, data) => set({ name: data.value })} />
          </Field>
          <Field label={words.format} validationMessage={message('format')} validationState={state('format')}>
            <Select value={settings.format} onChange={(_e, data) => set({ format: data.value as Format })}>
              {FORMATS.map((format) => (
                <option key={format} value={format}>
                  {format.toUpperCase()}
                </option>
              ))}
            </Select>
          </Field>
          <Field label={words.resolution} validationMessage={message('resolution')} validationState={state('resolution')}>
            <Select value={String(settings.resolution)} onChange={(_e, data) => set({ resolution: Number(data.value) })}>
              {RESOLUTIONS.map((dpi) => (
                <option key={dpi} value={dpi}>
                  {words.dpi(dpi)}
                </option>
              ))}
            </Select>
          </Field>
          <Field label={words.color} validationMessage={message('color')} validationState={state('color')}>
            <Select value={settings.color} onChange={(_e, data) => set({ color: data.value as Color })}>
              {COLORS.map((color) => (
                <option key={color} value={color}>
                  {words.colors[color]}
                </option>
              ))}
            </Select>
          </Field>
          <Field hint={words.duplexHint} validationMessage={message('duplex')} validationState={state('duplex')}>
            <Switch label={words.duplex} checked={settings.duplex} onChange={(_e, data) => set({ duplex: data.checked })} />
          </Field>
          <Field label={words.who} hint={words.whoHint} validationMessage={message('roles')} validationState={state('roles')}>
            <CheckboxGroup>
              {ROLES.map((role) => (
                <Checkbox
                  key={role}
                  label={words.roles[role]}
                  checked={settings.roles.includes(role)}
                  onChange={(_e, data) =>
                    set({
                      roles:
                        data.checked === true
                          ? [...settings.roles.filter((r) => r !== role), role]
                          : settings.roles.filter((r) => r !== role),
                    })
                  }
                />
              ))}
            </CheckboxGroup>
          </Field>
        </DialogContent>
        <DialogActions>
          <Button appearance="primary" type="submit" disabled={editing.saving === true}>
            {words.save}
          </Button>
          <DialogTrigger disableButtonEnhancement>
            <Button>{words.cancel}</Button>
          </DialogTrigger>
        </DialogActions>
      </DialogBody>
    </form>
  );
}
