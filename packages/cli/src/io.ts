import { SingleBar } from "cli-progress";

/** What a command may touch of the outside world; bin.ts passes the real ones, tests pass fakes. */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  /** Read when a file argument is `-`. */
  readonly stdin?: AsyncIterable<string | Uint8Array>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** A progress bar for one phase of long work. */
export interface Progress {
  update(value: number): void;
  done(): void;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Paint = Record<keyof typeof CODES, (text: string) => string>;

/** Terminal output: colours only on a TTY and never with NO_COLOR or --json; a progress line on stderr. */
export interface Output {
  readonly paint: Paint;
  readonly json: boolean;
  line(text?: string): void;
  error(text: string): void;
  printJson(value: unknown): void;
  table(rows: readonly Record<string, string>[], columns: readonly string[]): void;
  /** A bar for one named phase of `total` steps (records): total, percentage, rate, ETA; silent when piped or with --json. */
  progress(phase: string, total: number): Progress;
}

/** `extras`: fields added to every JSON object printed (what the store repaired or found on the way). */
export function createOutput(io: Io, json: boolean, extras: () => Record<string, unknown> = () => ({})): Output {
  // NO_COLOR: "when present and not an empty string" (no-color.org)
  const colour = io.stdout.isTTY === true && !json && !io.env["NO_COLOR"] && io.env["TERM"] !== "dumb";
  const paint = Object.fromEntries(
    Object.entries(CODES).map(([name, code]) => [name, (text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text)]),
  ) as Paint;
  const showProgress = io.stderr.isTTY === true && !json;
  return {
    paint,
    json,
    line: (text = "") => io.stdout.write(`${text}\n`),
    error: (text) => io.stderr.write(`${text}\n`),
    printJson: (value) => {
      const extra = extras();
      const merged =
        value && typeof value === "object" && !Array.isArray(value) && Object.keys(extra).length > 0 ? { ...value, ...extra } : value;
      io.stdout.write(`${JSON.stringify(merged, null, 2)}\n`);
    },
    table(rows, columns) {
      const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
      const render = (cells: readonly string[]) =>
        cells
          .map((cell, i) => cell.padEnd(widths[i] as number))
          .join("  ")
          .trimEnd();
      io.stdout.write(`${paint.bold(render(columns))}\n`);
      for (const row of rows) io.stdout.write(`${render(columns.map((c) => row[c] ?? ""))}\n`);
    },
    progress: (phase, total) => (showProgress ? progressBar(io.stderr as unknown as NodeJS.WritableStream, phase, total) : SILENT),
  };
}

/** One break of a verification as every command prints it: `  seq 12 gap at <file>:<offset>: detail`. */
export const breakLine = (b: {
  readonly seq: number;
  readonly kind: string;
  readonly location?: string;
  readonly detail: string;
}): string => `  seq ${b.seq} ${b.kind}${b.location ? ` at ${b.location}` : ""}: ${b.detail}`;

/** "1 batch", "2 batches", "1 candidate", "3 candidates": a count with its noun. */
export const plural = (count: number, noun: string): string =>
  `${count} ${noun}${count === 1 ? "" : /(s|sh|ch|x)$/.test(noun) ? "es" : "s"}`;

const SILENT: Progress = { update: () => undefined, done: () => undefined };

/**
 * A cli-progress bar on a terminal: `phase [=====-----] 42% 126,000/300,000 records 61,204/s ETA 3s`.
 * It draws at most 10 times a second and looks at every 256th update only, so a tight loop may
 * call `update` on every record.
 */
function progressBar(stream: NodeJS.WritableStream, phase: string, total: number): Progress {
  const started = performance.now();
  const bar = new SingleBar({
    stream,
    format: `${phase} [{bar}] {percentage}% {count}/{all} records {rate}/s ETA {eta_formatted}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  const number = (n: number) => Math.round(n).toLocaleString("en-US");
  bar.start(Math.max(total, 1), 0, { count: "0", all: number(total), rate: "0" });
  let calls = 0;
  return {
    update(value) {
      if (++calls % 256 !== 0 && value < total) return;
      const seconds = (performance.now() - started) / 1000;
      bar.update(Math.min(value, Math.max(total, 1)), { count: number(value), rate: seconds > 0 ? number(value / seconds) : "0" });
    },
    done: () => bar.stop(),
  };
}
