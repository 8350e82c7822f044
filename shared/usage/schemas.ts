import { Type } from '@sinclair/typebox';

/** What the usage routes take and answer (functions/reports.ts, functions/me.ts): one copy of each shape. */

/** A UTC day, `YYYY-MM-DD` (the `date` format also checks it is a real one). */
export const DaySchema = (description: string) => Type.String({ format: 'date', description });

const FiguresProperties = {
  jobs: Type.Integer({ description: 'Printed jobs (a job printed without figures counts here with 0 pages).' }),
  pages: Type.Integer({ description: 'Page sides printed, all copies.' }),
  sheets: Type.Integer({ description: 'Sheets of paper used.' }),
  colorPages: Type.Integer({ description: 'Of `pages`, those printed in colour.' }),
};
export const FiguresSchema = Type.Object(FiguresProperties);
export const TotalsSchema = Type.Object({
  ...FiguresProperties,
  colorShare: Type.Number({ description: '`colorPages / pages`, to 3 places; 0 without pages.' }),
});
