import type { Command } from "commander";
import { program } from "../../cli/program.js";

/** Every runnable command of the CLI as typed after `tenantdb` ("db config attach"), from its declaration. */
export function allCommands(): { name: string; command: Command }[] {
  const out: { name: string; command: Command }[] = [];
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of cmd.commands) {
      const name = `${prefix}${sub.name()}`;
      out.push({ name, command: sub });
      walk(sub, `${name} `);
    }
  };
  walk(program, "");
  return out;
}

/** A command's full help text, as `tenantdb <name> --help` prints it (examples included). */
export function helpOf(command: Command): string {
  let text = "";
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}
