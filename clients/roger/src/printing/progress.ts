import cliProgress from 'cli-progress';
import { formatBytes } from './printable.js';

/**
 * How far an upload is, on stderr so stdout keeps only the results (`queued <id> <name>`): a
 * bar (cli-progress) in a terminal; elsewhere (a log, a script, a test) a plain line each time
 * the whole percentage changes, which reads well in a file.
 */
export interface ProgressDisplay {
  update(sentBytes: number, totalBytes: number): void;
  stop(): void;
}

export function showProgress(fileName: string, stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  let started = false;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: `${fileName} [{bar}] {percentage}% {sent} of {size}`, barsize: 30 },
      cliProgress.Presets.shades_classic,
    );
    return {
      update(sent, total) {
        const payload = { sent: formatBytes(sent), size: formatBytes(total) };
        if (started) return bar.update(sent, payload);
        started = true;
        bar.start(total, sent, payload);
      },
      stop: () => started && bar.stop(),
    };
  }
  let shown = -1;
  return {
    update(sent, total) {
      const percent = Math.floor((sent * 100) / total);
      // The first report past zero is where an earlier run stopped.
      if (!started && sent > 0 && sent < total) stream.write(`${fileName}: resuming at ${percent}%\n`);
      started = true;
      if (percent === shown) return;
      shown = percent;
      stream.write(`${fileName}: ${percent}%\n`);
    },
    stop() {},
  };
}
