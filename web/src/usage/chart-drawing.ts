// Draws the usage chart with Chart.js. This module is imported only when a chart is drawn, so
// Chart.js (about 70 KB gzipped) is never part of the first load (docs/web-app.md, budget), and
// only the pieces a stacked bar chart needs are registered, so the rest is left out of the build.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface UsageChartData {
  /** What each bar is: a name or a day, already in words. */
  labels: string[];
  mono: number[];
  color: number[];
  /** Bars along the side (people, printers: long names read better) or upwards (days). */
  horizontal: boolean;
  language: string;
  words: { mono: string; color: string; pages: string };
}

// Canvas cannot read CSS variables: Fluent's neutral foreground and brand colours as values, the
// same in both themes the app has (light only). Grey 38 on white and brand 80 pass 3:1 for graphics.
const TEXT = '#242424';
const GRID = '#e0e0e0';
const MONO = '#616161';
const COLOUR = '#0f6cbd';

export function drawUsageChart(canvas: HTMLCanvasElement, data: UsageChartData): { destroy(): void } {
  const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
  const valueAxis = data.horizontal ? 'x' : 'y';
  const labelAxis = data.horizontal ? 'y' : 'x';
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: data.labels,
      datasets: [
        { label: data.words.mono, data: data.mono, backgroundColor: MONO, stack: 'pages' },
        { label: data.words.color, data: data.color, backgroundColor: COLOUR, stack: 'pages' },
      ],
    },
    options: {
      indexAxis: data.horizontal ? 'y' : 'x',
      locale: data.language,
      responsive: true,
      maintainAspectRatio: false,
      animation: still ? false : { duration: 300 },
      color: TEXT,
      font: {
        family: '"Segoe UI", "Segoe UI Web (West European)", -apple-system, BlinkMacSystemFont, Roboto, "Helvetica Neue", sans-serif',
      },
      plugins: { legend: { position: 'bottom', labels: { color: TEXT } } },
      scales: {
        [valueAxis]: {
          stacked: true,
          beginAtZero: true,
          ticks: { color: TEXT, precision: 0 },
          grid: { color: GRID },
          title: { display: true, text: data.words.pages, color: TEXT },
        },
        [labelAxis]: { stacked: true, ticks: { color: TEXT, autoSkip: true }, grid: { display: false } },
      },
    },
  });
}
