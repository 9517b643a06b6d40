/**
 * What one command was called with, once the parser (commander) has read argv: its operands in
 * order and every option, the global ones included, by its flag name (`approval-ref`, not
 * `approvalRef`), so a handler reads the names the user typed and the docs show.
 */
export interface Invocation {
  readonly positionals: readonly string[];
  readonly flags: ReadonlyMap<string, string | boolean | readonly string[]>;
}

export const flag = (invocation: Invocation, name: string): string | undefined => {
  const value = invocation.flags.get(name);
  return typeof value === "string" ? value : undefined;
};
export const has = (invocation: Invocation, name: string): boolean => invocation.flags.get(name) === true;
export const list = (invocation: Invocation, name: string): readonly string[] => {
  const value = invocation.flags.get(name);
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
};

/** `approvalRef` → `approval-ref`: commander's option keys back to the flag names. */
export function invocationOf(operands: readonly unknown[], options: Readonly<Record<string, unknown>>): Invocation {
  const flags = new Map<string, string | boolean | readonly string[]>();
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    flags.set(
      key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      value as string | boolean | readonly string[],
    );
  }
  const positionals = operands.flatMap((operand) => (operand === undefined ? [] : Array.isArray(operand) ? operand : [String(operand)]));
  return { positionals, flags };
}
