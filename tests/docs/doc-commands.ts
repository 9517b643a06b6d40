// Reads the runnable parts of a Markdown page: files it tells the reader to write and the command
// sessions it shows, so a test can replay the page and compare what it shows with what happens.

/** A step of a page, in page order. */
export type DocStep =
  | { readonly kind: "file"; readonly name: string; readonly text: string; readonly line: number }
  | {
      readonly kind: "command";
      readonly command: string;
      readonly expected: readonly string[];
      readonly exitCode: number;
      readonly line: number;
    };

/**
 * The steps of a page. A fenced block with `file=<name>` in its info string (```` ```json file=registry.json ````)
 * is a file the reader writes; a ```` ```console ```` block is a session: each `$ ` line a command,
 * the lines after it (up to the next `$ ` line) what it prints, stdout and stderr together. A
 * command that should fail says so in a trailing comment: `# exits 1`.
 */
export function docSteps(markdown: string): DocStep[] {
  const steps: DocStep[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)(.*)$/.exec(lines[i] as string);
    if (!fence) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] as string).startsWith("```")) end++;
    const body = lines.slice(start, end);
    const file = /\bfile=(\S+)/.exec(fence[2] ?? "");
    if (file) steps.push({ kind: "file", name: file[1] as string, text: `${body.join("\n")}\n`, line: start });
    else if (fence[1] === "console") {
      let current: { command: string; expected: string[]; exitCode: number; line: number } | undefined;
      body.forEach((text, offset) => {
        if (text.startsWith("$ ")) {
          if (current) steps.push({ kind: "command", ...current });
          const command = text.slice(2);
          const exits = /#\s*exits (\d+)\s*$/.exec(command);
          current = { command, expected: [], exitCode: exits ? Number(exits[1]) : 0, line: start + offset + 1 };
        } else if (current && text.trim() !== "") current.expected.push(text.trimEnd());
      });
      if (current) steps.push({ kind: "command", ...current });
    }
    i = end;
  }
  return steps;
}

/**
 * Whether printed output matches what a page shows: line by line, `…` inside a line standing for
 * any text, a line that is only `…` for any number of lines. Blank lines and trailing spaces
 * don't count. Returns the first expected line that did not match, or null.
 */
export function mismatch(expected: readonly string[], output: string): string | null {
  const actual = output
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
  const matchFrom = (e: number, a: number): boolean => {
    if (e === expected.length) return a === actual.length;
    const pattern = expected[e] as string;
    if (pattern === "…") {
      for (let skip = a; skip <= actual.length; skip++) if (matchFrom(e + 1, skip)) return true;
      return false;
    }
    return a < actual.length && lineMatches(pattern, actual[a] as string) && matchFrom(e + 1, a + 1);
  };
  if (matchFrom(0, 0)) return null;
  // name the first line that could not be matched in order, for the failure message
  let a = 0;
  for (const pattern of expected) {
    if (pattern === "…") return `after "…": ${pattern}`;
    const found = actual.findIndex((line, index) => index >= a && lineMatches(pattern, line));
    if (found === -1) return pattern;
    a = found + 1;
  }
  return "(the output has more lines than the page shows)";
}

function lineMatches(pattern: string, line: string): boolean {
  const regex = new RegExp(`^${pattern.split("…").map(escapeRegExp).join(".*")}$`);
  return regex.test(line);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
