/**
 * A password typed at a terminal, without echo. The terminal is put in raw mode for the prompt
 * only, so nothing typed is shown and the line is edited here: Backspace removes the last
 * character, Ctrl-U the whole line, Enter ends it, and Ctrl-C or Ctrl-D on an empty line gives up
 * (ABORTED). The prompt and the newline after it go to stderr, so stdout stays the command's
 * answer. Raw mode is left whatever happens, since a terminal left in it is unusable.
 */
import type { ReadStream } from "node:tty";
import { IbtError } from "../errors.js";

const ENTER = new Set(["\r", "\n"]);
const BACKSPACE = new Set(["\x7f", "\b"]);
const CTRL_C = "\x03";
const CTRL_D = "\x04";
const CTRL_U = "\x15";

/** Whether a prompt can be shown: stdin is a terminal that can be put in raw mode. */
export function canPrompt(input: NodeJS.ReadStream = process.stdin): boolean {
  return input.isTTY === true && typeof (input as ReadStream).setRawMode === "function";
}

/** Shows `question` on stderr and reads one line from the terminal without echoing it. */
export function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (!canPrompt(input)) return Promise.reject(new IbtError("BAD_ARGUMENT", "cannot ask for a password: stdin is not a terminal"));
  const tty = input as ReadStream;
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const wasRaw = tty.isRaw;
    const finish = (error?: IbtError) => {
      tty.off("data", onData);
      tty.setRawMode(wasRaw);
      tty.pause();
      output.write("\n");
      if (error) reject(error);
      else resolve(chars.join(""));
      chars = [];
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        if (ENTER.has(ch)) return finish();
        if (ch === CTRL_C || (ch === CTRL_D && chars.length === 0)) return finish(new IbtError("ABORTED", "no password given: the prompt was interrupted"));
        if (ch === CTRL_D) return finish();
        if (BACKSPACE.has(ch)) chars.pop();
        else if (ch === CTRL_U) chars = [];
        else if (ch >= " ") chars.push(ch);
      }
    };
    // Echo goes off before the prompt shows, so nothing typed in answer to it is ever echoed.
    tty.setRawMode(true);
    output.write(question);
    tty.on("data", onData);
    tty.resume();
  });
}
