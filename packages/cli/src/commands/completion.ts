import type { Command } from "commander";

/** One node of the command tree as a shell sees it: the words leading to it, what may follow. */
interface Node {
  readonly path: string;
  readonly subcommands: readonly { readonly name: string; readonly summary: string }[];
  readonly options: readonly { readonly flag: string; readonly summary: string; readonly takesValue: boolean }[];
  /** The allowed values of its first argument (`drill`, `completion`), if fixed. */
  readonly choices: readonly string[];
}

/**
 * A completion script for bash, zsh or fish, generated from the command tree itself so it never
 * drifts from the parser. commander has no completion of its own; the scripts are small and each
 * shell's idiom: bash's `complete -F`, zsh's `compdef` with descriptions, fish's `complete -n`.
 */
export function completion(shell: "bash" | "zsh" | "fish", program: Command): string {
  const nodes = treeOf(program);
  if (shell === "fish") return fish(nodes);
  // what bash and zsh both test a word against: the known command paths (as keys) and the options that take a value
  const paths = { known: nodes.filter((n) => n.path !== "").map(key), valued: valuedOptions(nodes) };
  return shell === "bash" ? bash(nodes, paths) : zsh(nodes, paths);
}

interface Paths {
  readonly known: readonly string[];
  readonly valued: readonly string[];
}

const valuedOptions = (nodes: readonly Node[]): string[] => [
  ...new Set(nodes.flatMap((n) => n.options.filter((o) => o.takesValue).map((o) => o.flag))),
];

function treeOf(program: Command): Node[] {
  const globals = optionsOf(program);
  const nodes: Node[] = [];
  const walk = (command: Command, path: string) => {
    const subcommands = command.commands.filter((c) => c.name() !== "help");
    nodes.push({
      path,
      subcommands: subcommands.map((c) => ({ name: c.name(), summary: c.description() })),
      options: path === "" ? globals : [...optionsOf(command), ...globals],
      choices: command.registeredArguments[0]?.argChoices ?? [],
    });
    for (const c of subcommands) walk(c, path ? `${path} ${c.name()}` : c.name());
  };
  walk(program, "");
  return nodes;
}

function optionsOf(command: Command): Node["options"] {
  const help = command.createHelp();
  return help
    .visibleOptions(command)
    .map((o) => ({ flag: o.long ?? o.short ?? "", summary: o.description, takesValue: o.required || o.optional }));
}

// a node's key in the scripts: its words joined by "_", as the scripts build it while reading the line
const key = (node: Node) => node.path.replace(/ /g, "_");
const words = (values: readonly string[]) => values.join(" ");
const single = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function bash(nodes: readonly Node[], { known, valued }: Paths): string {
  const cases = nodes
    .map(
      (n) =>
        `    ${single(key(n))}) words=${single(words([...n.subcommands.map((s) => s.name), ...n.choices]))}; flags=${single(words(n.options.map((o) => o.flag)))} ;;`,
    )
    .join("\n");
  return `# bash completion for opsledger: opsledger completion bash > ~/.local/share/bash-completion/completions/opsledger
_opsledger() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" word i words flags
  case " ${words(valued)} " in *" $prev "*) return 0 ;; esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case "$word" in -*) continue ;; esac
    case " ${known.join(" ")} " in *" \${path:+\${path}_}$word "*) path=\${path:+\${path}_}$word ;; esac
  done
  case "$path" in
${cases}
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  fi
}
complete -o default -o bashdefault -F _opsledger opsledger
`;
}

function zsh(nodes: readonly Node[], { known, valued }: Paths): string {
  const describe = (name: string, summary: string) => single(`${name.replace(/:/g, "\\:")}:${summary}`);
  const cases = nodes
    .map(
      (n) =>
        `    (${single(key(n))}) subcommands=(${[...n.subcommands.map((s) => describe(s.name, s.summary)), ...n.choices.map((c) => describe(c, ""))].join(" ")}); flags=(${n.options.map((o) => describe(o.flag, o.summary)).join(" ")}) ;;`,
    )
    .join("\n");
  return `#compdef opsledger
# zsh completion for opsledger: opsledger completion zsh > "\${fpath[1]}/_opsledger"
_opsledger() {
  local path_words="" word i
  local -a subcommands flags
  if (( CURRENT > 2 )) && [[ " ${words(valued)} " == *" \${words[CURRENT-1]} "* ]]; then _files; return; fi
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    [[ $word == -* ]] && continue
    [[ " ${known.join(" ")} " == *" \${path_words:+\${path_words}_}$word "* ]] && path_words=\${path_words:+\${path_words}_}$word
  done
  case "$path_words" in
${cases}
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    _describe -t options option flags
  elif (( \${#subcommands} )); then
    _describe -t commands command subcommands
  else
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _opsledger "$@"; else compdef _opsledger opsledger; fi
`;
}

function fish(nodes: readonly Node[]): string {
  const lines = ["# fish completion for opsledger: opsledger completion fish > ~/.config/fish/completions/opsledger.fish"];
  lines.push("complete -c opsledger -f");
  const top = nodes.find((n) => n.path === "") as Node;
  const topNames = top.subcommands.map((s) => s.name);
  for (const node of nodes) {
    const path = node.path.split(" ").filter(Boolean);
    // fish has no notion of a command path: a node is reached when its words were seen and no child's was
    const children = node.subcommands.map((s) => s.name);
    const condition =
      path.length === 0
        ? `not __fish_seen_subcommand_from ${words(topNames)}`
        : `${path.map((p) => `__fish_seen_subcommand_from ${p}`).join("; and ")}${children.length ? `; and not __fish_seen_subcommand_from ${words(children)}` : ""}`;
    for (const s of node.subcommands)
      lines.push(`complete -c opsledger -n ${single(condition)} -a ${single(s.name)} -d ${single(s.summary)}`);
    for (const c of node.choices) lines.push(`complete -c opsledger -n ${single(condition)} -a ${single(c)}`);
    const own = path.length === 0 ? node.options : node.options.filter((o) => !top.options.some((g) => g.flag === o.flag));
    for (const o of own) {
      const name = o.flag.replace(/^--?/, "");
      const spec = o.flag.startsWith("--") ? `-l ${name}` : `-s ${name}`;
      lines.push(
        `complete -c opsledger${path.length ? ` -n ${single(condition)}` : ""} ${spec}${o.takesValue ? " -r -F" : ""} -d ${single(o.summary)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
