// Usage (/app/admin/usage): what the organisation printed between two UTC days, by person, printer
// or day (GET /api/reports/usage; docs/web-app.md#admin-usage-and-printing). Totals, a chart of black-and-white
// and colour pages, the same figures as a table (the chart is never the only way to read them), and
// the report as a CSV file. A period the API refuses is marked at its field in the screen's words.
import {
  Button,
  Card,
  Field,
  Input,
  Radio,
  RadioGroup,
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
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { apiFetch } from '../auth.js';
import { useFieldErrors } from '../forms/field-errors.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';
import { problemOf, type ProblemWords } from '../problem.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';
import { MOST_BARS, UsageChart } from '../usage/UsageChart.js';
import {
  GROUP_BY,
  csvFileName,
  dayInWords,
  lastDays,
  percent,
  reportPath,
  utcDay,
  type GroupBy,
  type UsageQuery,
  type UsageReport,
  type UsageRow,
  type UsageTotals,
} from '../usage/usage-report.js';

/** The period the screen opens with, as the API's own default for a person's totals. */
const DEFAULT_DAYS = 30;
/** How long the CSV's Blob URL lives after the click (some browsers start the download later). */
const BLOB_URL_LIFETIME_MS = 60_000;

type Figure = keyof Omit<UsageTotals, 'colorShare'> | 'colorShare';
const FIGURES: readonly Figure[] = ['jobs', 'pages', 'sheets', 'colorPages', 'colorShare'];

const WORDS: Bilingual<{
  title: string;
  intro: string;
  period: string;
  from: string;
  to: string;
  dayHint: string;
  groupBy: string;
  groups: Record<GroupBy, string>;
  show: string;
  loading: string;
  loadFailed: string;
  missingDay: string;
  takes: Record<'from' | 'to' | 'groupBy', string>;
  totals: string;
  figures: Record<Figure, string>;
  empty: (from: string, to: string) => string;
  chartTitle: Record<GroupBy, string>;
  mono: string;
  color: string;
  pages: string;
  summary: (title: string, items: string[], more: number) => string;
  item: (name: string, pages: string, color: string) => string;
  chartFailed: string;
  tableTitle: Record<GroupBy, string>;
  download: string;
  downloading: string;
  downloaded: (file: string) => string;
  downloadFailed: string;
}> = {
  en: {
    title: 'Usage',
    intro: 'What was printed in your organisation, by person, printer or day. Days are counted in UTC; both days are included.',
    period: 'Report',
    from: 'From',
    to: 'To',
    dayHint: 'Included.',
    groupBy: 'Group by',
    groups: { user: 'Person', printer: 'Printer', day: 'Day' },
    show: 'Show',
    loading: 'Loading the report…',
    loadFailed: 'The report could not be loaded',
    missingDay: 'Choose a day.',
    takes: {
      from: 'a day on or before the last day, at most 366 days before it.',
      to: 'a day on or after the first day, at most 366 days after it.',
      groupBy: 'person, printer or day.',
    },
    totals: 'Totals',
    figures: { jobs: 'Jobs', pages: 'Pages', sheets: 'Sheets', colorPages: 'Colour pages', colorShare: 'Colour share' },
    empty: (from, to) => `Nothing was printed from ${from} to ${to}.`,
    chartTitle: { user: 'Pages by person', printer: 'Pages by printer', day: 'Pages by day' },
    mono: 'Black and white pages',
    color: 'Colour pages',
    pages: 'Pages',
    summary: (title, items, more) =>
      `${title}, black and white and colour. ${items.join('; ')}${more ? `; and ${more} more` : ''}. The table below lists every figure.`,
    item: (name, pages, color) => `${name}: ${pages} pages, ${color} in colour`,
    chartFailed: 'The chart could not be drawn. The table below lists every figure.',
    tableTitle: { user: 'Usage by person', printer: 'Usage by printer', day: 'Usage by day' },
    download: 'Download CSV',
    downloading: 'Preparing the file…',
    downloaded: (file) => `${file} is downloaded.`,
    downloadFailed: 'The CSV file could not be downloaded',
  },
  fr: {
    title: 'Utilisation',
    intro:
      'Ce qui a été imprimé dans votre organisation, par personne, par imprimante ou par jour. Les jours sont comptés en UTC, les deux jours inclus.',
    period: 'Rapport',
    from: 'Du',
    to: 'Au',
    dayHint: 'Inclus.',
    groupBy: 'Regrouper par',
    groups: { user: 'Personne', printer: 'Imprimante', day: 'Jour' },
    show: 'Afficher',
    loading: 'Chargement du rapport…',
    loadFailed: 'Le rapport n’a pas pu être chargé',
    missingDay: 'Choisissez un jour.',
    takes: {
      from: 'un jour antérieur ou égal au dernier jour, au plus 366\u00a0jours avant.',
      to: 'un jour postérieur ou égal au premier jour, au plus 366\u00a0jours après.',
      groupBy: 'personne, imprimante ou jour.',
    },
    totals: 'Totaux',
    figures: {
      jobs: 'Impressions',
      pages: 'Pages',
      sheets: 'Feuilles',
      colorPages: 'Pages en couleur',
      colorShare: 'Part de couleur',
    },
    empty: (from, to) => `Rien n’a été imprimé du ${from} au ${to}.`,
    chartTitle: { user: 'Pages par personne', printer: 'Pages par imprimante', day: 'Pages par jour' },
    mono: 'Pages en noir et blanc',
    color: 'Pages en couleur',
    pages: 'Pages',
    summary: (title, items, more) =>
      `${title}, en noir et blanc et en couleur. ${items.join('\u00a0; ')}${more ? `\u00a0; et ${more} de plus` : ''}. Le tableau ci-dessous donne tous les chiffres.`,
    item: (name, pages, color) => `${name}\u00a0: ${pages}\u00a0pages, dont ${color} en couleur`,
    chartFailed: 'Le graphique n’a pas pu être dessiné. Le tableau ci-dessous donne tous les chiffres.',
    tableTitle: { user: 'Utilisation par personne', printer: 'Utilisation par imprimante', day: 'Utilisation par jour' },
    download: 'Télécharger en CSV',
    downloading: 'Préparation du fichier…',
    downloaded: (file) => `${file} est téléchargé.`,
    downloadFailed: 'Le fichier CSV n’a pas pu être téléchargé',
  },
};

const useStyles = makeStyles({
  form: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, alignItems: 'flex-start' },
  day: { flex: '1 1 160px', minWidth: 0, maxWidth: '240px' },
  input: { width: '100%' },
  buttons: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, flexBasis: '100%' },
  card: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  totals: {
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(120px, 1fr))',
    gap: tokens.spacingVerticalS,
    margin: 0,
  },
  total: { margin: 0 },
  term: { color: tokens.colorNeutralForeground2 },
  value: { margin: 0, fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold },
  name: { overflowWrap: 'anywhere' },
  number: { textAlign: 'end', fontVariantNumeric: 'tabular-nums' },
  // A number's heading sits over its figures, at the end of the cell.
  numberHeading: { justifyContent: 'flex-end' },
  // At phone width sheets and colour pages give way; the totals above still show them.
  wide: { '@media (max-width: 600px)': { display: 'none' } },
});

/** Sheets and colour pages give way at phone width (the totals still show them). */
const narrowHidden = (figure: Figure) => figure === 'sheets' || figure === 'colorPages';

type Download = { kind: 'idle' | 'busy' } | { kind: 'done'; file: string } | { kind: 'failed'; problem: ProblemWords };

export function UsagePage() {
  const styles = useStyles();
  const words = useWords(WORDS);
  const [language] = useLanguage();
  const [draft, setDraft] = useState<UsageQuery>(() => ({ ...lastDays(DEFAULT_DAYS), groupBy: 'user' }));
  const [query, setQuery] = useState<UsageQuery>(draft);
  const [missing, setMissing] = useState<{ from?: boolean; to?: boolean }>({});
  const [download, setDownload] = useState<Download>({ kind: 'idle' });
  const read = useApiRead<UsageReport>(reportPath(query));
  const load = read.state;
  // A refused period names /query/from, /query/to or /query/groupBy: shown at that field.
  const errors = useFieldErrors(load.kind === 'failed' ? load.error : undefined, '/query/');

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const gaps = { from: draft.from === '', to: draft.to === '' };
    setMissing(gaps);
    if (gaps.from || gaps.to) return;
    setDownload({ kind: 'idle' });
    if (JSON.stringify(draft) === JSON.stringify(query)) read.reload();
    else setQuery({ ...draft });
  };

  const saveCsv = async () => {
    setDownload({ kind: 'busy' });
    try {
      const response = await apiFetch(reportPath(query, true));
      if (!response.ok) return setDownload({ kind: 'failed', problem: await problemOf(response, words.downloadFailed) });
      const file = csvFileName(response.headers.get('Content-Disposition'), query);
      const url = URL.createObjectURL(new Blob([await response.arrayBuffer()], { type: 'text/csv;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
      setDownload({ kind: 'done', file });
    } catch (error) {
      setDownload({ kind: 'failed', problem: problemWords(error, words.downloadFailed) });
    }
  };

  const number = new Intl.NumberFormat(language);
  const nameOf = (row: UsageRow, groupBy: GroupBy) => (groupBy === 'day' ? dayInWords(row.key, language) : row.name || row.key);
  const figure = (totals: UsageTotals, which: Figure) =>
    which === 'colorShare' ? percent(totals.colorShare, language) : number.format(totals[which]);
  const dayField = (edge: 'from' | 'to') => (
    <Field
      className={styles.day}
      label={words[edge]}
      hint={words.dayHint}
      validationMessage={missing[edge] ? words.missingDay : errors.message(edge, words.takes[edge])}
      validationState={missing[edge] ? 'error' : errors.state(edge)}
    >
      <Input className={styles.input} type="date" value={draft[edge]} onChange={(_e, data) => setDraft({ ...draft, [edge]: data.value })} />
    </Field>
  );

  return (
    <Page title={words.title}>
      <Text>{words.intro}</Text>
      <form className={styles.form} onSubmit={apply} aria-label={words.period} role="search" noValidate>
        {dayField('from')}
        {dayField('to')}
        <Field
          label={words.groupBy}
          validationMessage={errors.message('groupBy', words.takes.groupBy)}
          validationState={errors.state('groupBy')}
        >
          <RadioGroup
            layout="horizontal"
            value={draft.groupBy}
            onChange={(_e, data) => setDraft({ ...draft, groupBy: data.value as GroupBy })}
          >
            {GROUP_BY.map((groupBy) => (
              <Radio key={groupBy} value={groupBy} label={words.groups[groupBy]} />
            ))}
          </RadioGroup>
        </Field>
        <div className={styles.buttons}>
          <Button appearance="primary" type="submit">
            {words.show}
          </Button>
          {download.kind === 'busy' ? (
            <Spinner size="tiny" label={words.downloading} />
          ) : (
            <Button disabled={load.kind !== 'loaded'} onClick={() => void saveCsv()}>
              {words.download}
            </Button>
          )}
        </div>
      </form>
      {download.kind === 'done' && <DoneBar>{words.downloaded(download.file)}</DoneBar>}
      {download.kind === 'failed' && <ProblemBar problem={download.problem} />}

      {load.kind === 'loading' && <Spinner label={words.loading} />}
      {load.kind === 'failed' && errors.count === 0 && <ProblemBar problem={problemWords(load.error, words.loadFailed)} />}
      {load.kind === 'loaded' && (
        <Report report={load.value} words={words} figure={figure} nameOf={nameOf} number={number} language={language} styles={styles} />
      )}
    </Page>
  );
}

type Words = (typeof WORDS)['en'];

/**
 * Every day of the period, those without jobs as zeros: the API lists only days with jobs, and a
 * chart that skipped the others would draw a quiet week as if it were not there. The table keeps
 * the API's rows.
 */
function everyDay(report: UsageReport): Pick<UsageRow, 'key' | 'pages' | 'colorPages'>[] {
  const byDay = new Map(report.rows.map((row) => [row.key, row]));
  const days: Pick<UsageRow, 'key' | 'pages' | 'colorPages'>[] = [];
  for (let time = Date.parse(`${report.from}T00:00:00Z`); time <= Date.parse(`${report.to}T00:00:00Z`); time += 86_400_000) {
    const day = utcDay(new Date(time));
    days.push(byDay.get(day) ?? { key: day, pages: 0, colorPages: 0 });
  }
  return days;
}

function Report({
  report,
  words,
  figure,
  nameOf,
  number,
  language,
  styles,
}: {
  report: UsageReport;
  words: Words;
  figure: (totals: UsageTotals, which: Figure) => string;
  nameOf: (row: UsageRow, groupBy: GroupBy) => string;
  number: Intl.NumberFormat;
  language: string;
  styles: ReturnType<typeof useStyles>;
}) {
  const { groupBy, rows } = report;
  const busiest = rows.slice(0, MOST_BARS);
  const drawn = groupBy === 'day' ? everyDay(report) : busiest;
  const labels =
    groupBy === 'day' ? drawn.map((row) => dayInWords(row.key, language, 'brief')) : busiest.map((row) => nameOf(row, groupBy));
  const listed = rows.slice(0, 10);
  const summary = words.summary(
    words.chartTitle[groupBy],
    listed.map((row) => words.item(nameOf(row, groupBy), number.format(row.pages), number.format(row.colorPages))),
    rows.length - listed.length,
  );
  return (
    <>
      <Card className={styles.card} role="region" aria-label={words.totals}>
        <Subtitle2 as="h3">{words.totals}</Subtitle2>
        <dl className={styles.totals}>
          {FIGURES.map((which) => (
            <div key={which} className={styles.total}>
              <dt className={styles.term}>{words.figures[which]}</dt>
              <dd className={styles.value}>{figure(report.totals, which)}</dd>
            </div>
          ))}
        </dl>
      </Card>
      {rows.length === 0 ? (
        <Text role="status">{words.empty(dayInWords(report.from, language), dayInWords(report.to, language))}</Text>
      ) : (
        <>
          <Card className={styles.card}>
            <Subtitle2 as="h3">{words.chartTitle[groupBy]}</Subtitle2>
            <UsageChart
              data={{
                labels,
                mono: drawn.map((row) => row.pages - row.colorPages),
                color: drawn.map((row) => row.colorPages),
                horizontal: groupBy !== 'day',
                words: { mono: words.mono, color: words.color, pages: words.pages },
              }}
              language={language}
              summary={summary}
              failed={words.chartFailed}
            />
          </Card>
          <Table aria-label={words.tableTitle[groupBy]}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell>{words.groups[groupBy]}</TableHeaderCell>
                {FIGURES.map((which) => (
                  <TableHeaderCell
                    key={which}
                    className={mergeClasses(styles.number, narrowHidden(which) && styles.wide)}
                    button={{ className: styles.numberHeading }}
                  >
                    {words.figures[which]}
                  </TableHeaderCell>
                ))}
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((row) => (
                <TableRow key={row.key}>
                  <TableCell className={styles.name}>{nameOf(row, groupBy)}</TableCell>
                  {FIGURES.map((which) => (
                    <TableCell key={which} className={mergeClasses(styles.number, narrowHidden(which) && styles.wide)}>
                      {figure(row, which)}
                    </TableCell>
                  ))}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      )}
    </>
  );
}
