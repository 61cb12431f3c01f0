/**
 * Progress for long streams: on a terminal a bar redrawn in place (bytes, percent, rate); without
 * one (cron, systemd, CI) a plain log line now and then, so journals stay readable.
 */
export interface ProgressSink {
  start(label: string, total: number | undefined): ProgressBar;
}

export interface ProgressBar {
  update(bytes: number): void;
  done(): void;
}

export const silentProgress: ProgressSink = {
  start: () => ({ update: () => undefined, done: () => undefined }),
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function streamProgress(out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressSink {
  const tty = Boolean(out.isTTY);
  return {
    start(label, total) {
      const started = now();
      let last = 0;
      let lastBytes = 0;
      const rate = (bytes: number) => {
        const s = Math.max((now() - started) / 1000, 0.001);
        return `${formatBytes(bytes / s)}/s`;
      };
      const line = (bytes: number) => {
        const pct = total ? Math.min(100, Math.floor((bytes / total) * 100)) : undefined;
        return `${label}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)} (${pct}%)` : ''}, ${rate(bytes)}`;
      };
      const bar = (bytes: number) => {
        const width = 30;
        const fill = total ? Math.min(width, Math.round((bytes / total) * width)) : Math.floor(bytes / (1 << 20)) % (width + 1);
        return `\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${formatBytes(bytes)}${total ? ` / ${formatBytes(total)}` : ''}  ${rate(bytes)}   `;
      };
      return {
        update(bytes) {
          lastBytes = bytes;
          const t = now();
          if (tty) {
            if (t - last < 100) return;
            last = t;
            out.write(bar(bytes));
          } else {
            if (t - last < 10_000) return;
            if (last === 0) {
              last = t;
              return;
            }
            last = t;
            out.write(`${line(bytes)}\n`);
          }
        },
        done() {
          if (tty) out.write(`${bar(lastBytes)}\n`);
          else out.write(`${line(lastBytes)}, done\n`);
        },
      };
    },
  };
}
