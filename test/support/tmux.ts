// A real terminal for the live console tests: a private tmux server (Debian's tmux) runs one
// command in a pane of a given size; a test sends it keys, resizes it, and reads the screen as
// the user sees it (capture-pane, with or without the attributes). Waits are for screen content,
// never for a fixed time. Each Tmux has its own socket and ends its own server.

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function tmuxAvailable(): boolean {
  return spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0;
}

export interface TmuxOptions {
  /** Directory for the socket and the config. */
  dir: string;
  name: string;
  width: number;
  height: number;
  /** The environment of the command (the pane's TERM is tmux's own). */
  env: Record<string, string>;
  cwd: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A word for sh, quoted. */
function quote(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

export class Tmux {
  private readonly socket: string;
  private readonly target: string;
  /** Where the shell around the command writes its exit status (tmux's own pane_dead_status
   *  is sometimes not set for seconds after the pane died). */
  private readonly statusFile: string;

  private constructor(private readonly opts: TmuxOptions) {
    this.socket = join(opts.dir, `${opts.name}.tmux`);
    this.target = `${opts.name}:0.0`;
    this.statusFile = join(opts.dir, `${opts.name}.status`);
  }

  /** Starts `argv` in a new pane (kept on screen after it exits, to read its last words). */
  static start(argv: string[], opts: TmuxOptions): Tmux {
    if (!tmuxAvailable()) throw new Error("tmux is not installed (apt-get install tmux): the live console tests need a real terminal");
    const t = new Tmux(opts);
    const conf = join(opts.dir, `${opts.name}.conf`);
    // No user config; the pane stays when the command exits; no status line (the pane is the
    // whole window, so its size is the one asked for).
    writeFileSync(conf, "set -g remain-on-exit on\nset -g status off\nset -g history-limit 2000\n");
    const command = `${argv.map(quote).join(" ")}; echo $? > ${quote(t.statusFile)}`;
    t.tmux(["-f", conf, "new-session", "-d", "-s", opts.name, "-x", String(opts.width), "-y", String(opts.height), "-c", opts.cwd, command], opts.env);
    return t;
  }

  private tmux(args: string[], env: Record<string, string> = this.opts.env): string {
    const r = spawnSync("tmux", ["-S", this.socket, ...args], { encoding: "utf8", env });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** The screen as text, one string per row (trailing spaces removed). */
  screen(): string[] {
    return this.tmux(["capture-pane", "-p", "-t", this.target]).replace(/\n$/, "").split("\n");
  }

  /** Everything the pane shows and scrolled away, wrapped lines joined (what a command printed
   *  after the console closed). */
  history(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", this.target]);
  }

  /** The screen with its attributes as escape sequences (colour, bold, inverse). */
  styled(): string {
    return this.tmux(["capture-pane", "-p", "-e", "-t", this.target]);
  }

  /** Keys by tmux's names (Up, Down, Enter, Escape, Tab, C-c) or characters. */
  keys(...keys: string[]): void {
    this.tmux(["send-keys", "-t", this.target, ...keys]);
  }

  resize(width: number, height: number): void {
    this.tmux(["resize-window", "-t", this.target, "-x", String(width), "-y", String(height)]);
  }

  /** A tmux format for the pane: "#{pane_width}", "#{pane_title}"... */
  format(format: string): string {
    return this.tmux(["display-message", "-p", "-t", this.target, format]).trim();
  }

  /** The command's exit status once it has exited (as a shell gives it: 128 + N for signal
   *  N), undefined while it runs. */
  exitStatus(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.statusFile, "utf8");
    } catch {
      return undefined;
    }
    return text.endsWith("\n") ? Number(text) : undefined;
  }

  /** Waits until `test` holds for the screen; returns that screen. Screens seen meanwhile go
   *  to `seen` (to check that something never showed). The bound only matters when something
   *  is broken: a loaded machine can be slow. */
  async waitFor(what: string, test: (screen: string[]) => boolean, options: { ms?: number; seen?: string[][] } = {}): Promise<string[]> {
    const ms = options.ms ?? 60_000;
    const deadline = Date.now() + ms;
    let last: string[] = [];
    for (;;) {
      last = this.screen();
      options.seen?.push(last);
      if (test(last)) return last;
      if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}; the screen:\n${last.join("\n")}`);
      await sleep(100);
    }
  }

  /** Waits for the command to exit; returns its status. */
  async exited(ms = 60_000): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const status = this.exitStatus();
      if (status !== undefined) return status;
      if (Date.now() > deadline) throw new Error(`the command did not exit within ${ms / 1000} s; the screen:\n${this.screen().join("\n")}`);
      await sleep(100);
    }
  }

  /** Ends the server (and the command, if it still runs). */
  stop(): void {
    spawnSync("tmux", ["-S", this.socket, "kill-server"], { stdio: "ignore" });
  }
}
