// The usage report as a chart: black-and-white and colour pages stacked, per person, printer or
// day. Chart.js arrives with the first chart drawn (chart-drawing.ts is imported here, lazily);
// until then, and if it never comes, the table beside the chart has every figure. A canvas says
// nothing to a screen reader, so it is an image named by a summary of what it shows.
import { Text, makeStyles } from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import type { UsageChartData } from './chart-drawing.js';

/** At most this many people or printers are drawn (the busiest: rows come by pages, most first); the table lists all. */
export const MOST_BARS = 15;

// Hidden overflow: after a resize the canvas keeps its old width until Chart.js redraws it, which must not widen the page.
const useStyles = makeStyles({ frame: { position: 'relative', width: '100%', minWidth: 0, overflow: 'hidden' } });

export interface UsageChartProps {
  data: Omit<UsageChartData, 'language'>;
  language: string;
  /** What the chart shows, read out in place of the picture. */
  summary: string;
  /** Said when Chart.js could not be loaded. */
  failed: string;
}

export function UsageChart({ data, language, summary, failed }: UsageChartProps) {
  const styles = useStyles();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<'drawing' | 'drawn' | 'failed'>('drawing');
  // Drawn again when the figures or the language change (the axis numbers and legend follow it).
  const key = JSON.stringify(data);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    let gone = false;
    let chart: { destroy(): void } | undefined;
    setState('drawing');
    import('./chart-drawing.js').then(
      ({ drawUsageChart }) => {
        if (gone || !canvas.current) return;
        chart = drawUsageChart(canvas.current, { ...latest.current, language });
        setState('drawn');
      },
      () => !gone && setState('failed'),
    );
    return () => {
      gone = true;
      chart?.destroy();
    };
  }, [key, language]);

  // Tall enough for a readable bar per person or printer; days share one fixed height.
  const height = data.horizontal ? Math.max(160, 64 + data.labels.length * 28) : 280;
  return (
    <>
      {state === 'failed' ? (
        <Text>{failed}</Text>
      ) : (
        <div className={styles.frame} style={{ height: `${height}px` }} data-chart={state}>
          <canvas ref={canvas} role="img" aria-label={summary} />
        </div>
      )}
    </>
  );
}
