import { UsageError } from "./exit-codes.ts";

/** A flag's kind: a boolean switch, a value, or a repeatable value. */
export type FlagKind = "boolean" | "string" | "repeat";

/** Parsed arguments: positionals in order, flags by name. */
export interface Parsed {
  readonly positionals: string[];
  readonly flags: Map<string, string | boolean | string[]>;
}

/**
 * Parses `--name value`, `--name=value`, boolean `--name`, repeatable flags and positionals,
 * against the flags a command declares; anything else is a usage error naming it.
 */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagKind>>): Parsed {
  const positionals: string[] = [];
  const flags = new Map<string, string | boolean | string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown flag --${name}`);
    if (kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    if (kind === "repeat") flags.set(name, [...((flags.get(name) as string[] | undefined) ?? []), value]);
    else flags.set(name, value);
  }
  return { positionals, flags };
}

export const flag = (parsed: Parsed, name: string): string | undefined => {
  const value = parsed.flags.get(name);
  return typeof value === "string" ? value : undefined;
};
export const has = (parsed: Parsed, name: string): boolean => parsed.flags.get(name) === true;
export const list = (parsed: Parsed, name: string): string[] => (parsed.flags.get(name) as string[] | undefined) ?? [];
