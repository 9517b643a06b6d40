/** What a command may touch of the outside world; bin.ts passes the real ones, tests pass fakes. */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
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
  /** A progress counter for long work; silent when piped or with --json. */
  progress(label: string): { tick(count: number): void; done(): void };
}

/** `extras`: fields added to every JSON object printed (what the store repaired or found on the way). */
export function createOutput(io: Io, json: boolean, extras: () => Record<string, unknown> = () => ({})): Output {
  const colour = io.stdout.isTTY === true && !json && io.env["NO_COLOR"] === undefined && io.env["TERM"] !== "dumb";
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
    progress(label) {
      let shown = false;
      return {
        tick(count) {
          if (!showProgress) return;
          shown = true;
          io.stderr.write(`\r${label} ${count.toLocaleString("en-US")} records…`);
        },
        done() {
          if (shown) io.stderr.write("\r\u001b[2K");
        },
      };
    },
  };
}
