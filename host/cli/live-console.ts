// trace-pull --live on a terminal: a full-screen console over the live analysis (live-feed.ts).
// It owns the terminal while it is up: the alternate screen, raw keyboard input, the size. It
// redraws on a timer, on a key and on a resize, always the whole screen clipped to the
// terminal, and gives the terminal back as it found it however the command ends (normally, by a
// signal, or by an error).

import type { TaskRecord } from "../model/tasks.js";
import { safeText } from "../report/units.js";
import { cleanupOnSignal } from "./signals.js";
import { commandFor, parseKeys, type Command, type View } from "./console-input.js";
import { Screen } from "./console-screen.js";
import { drawDetail, drawHelp, drawLints, drawResources, drawTasks, type Drawn, type Frame, type Place } from "./console-views.js";
import type { LiveFeed } from "./live-feed.js";
import { resourceRows, sortRows, taskDetail, taskRows, type TaskRow } from "./live-rows.js";

export interface ConsoleOptions {
  /** The terminal to draw on (standard output). */
  output: NodeJS.WriteStream;
  /** Where keys come from (standard input when it is a terminal; none: no keys). */
  input?: NodeJS.ReadStream | undefined;
  colour: boolean;
  /** The pull's progress, shown at the bottom. */
  status?: () => string;
  /** q or Ctrl-C was pressed. */
  onQuit: () => void;
  /** Redraw interval (ms, default 250). */
  refreshMs?: number;
}

const VIEWS: readonly View[] = ["tasks", "resources", "lints"];

export class LiveConsole {
  private readonly screen: Screen;
  private readonly place: Place = { view: "tasks", cursor: 0, scroll: 0, sort: "state", reverse: false, help: false };
  /** The task the cursor is on (by incarnation), so it follows the task when rows reorder. */
  private selected: number | undefined;
  private detailTask: TaskRecord | undefined;
  private listHeight = 1;
  /** The list last drawn: its length, and the task rows in their order on screen. */
  private listLength = 0;
  private rowsShown: TaskRow[] = [];
  private noticeText = "";
  private timer: NodeJS.Timeout | undefined;
  private forget: (() => void) | undefined;
  private readonly onData = (data: string | Buffer): void => this.keys(String(data));
  private readonly onResize = (): void => {
    this.screen.invalidate();
    this.draw();
  };
  private readonly onExit = (): void => this.restore();

  constructor(
    private readonly feed: LiveFeed,
    private readonly opts: ConsoleOptions,
  ) {
    this.screen = new Screen(opts.output, opts.colour);
  }

  start(): void {
    if (this.forget) return;
    // First the way back (a signal from here on restores the terminal), then the screen.
    this.forget = cleanupOnSignal(() => this.restore());
    process.once("exit", this.onExit);
    this.screen.enter();
    const input = this.opts.input;
    if (input?.isTTY) {
      input.setRawMode(true);
      input.setEncoding("utf8");
      input.on("data", this.onData);
      input.resume();
    }
    this.opts.output.on("resize", this.onResize);
    this.timer = setInterval(() => this.draw(), this.opts.refreshMs ?? 250);
    this.draw();
  }

  /** Gives the terminal back (the normal screen as it was, keys as they were). */
  stop(): void {
    if (!this.forget) return;
    this.restore();
    this.forget();
    this.forget = undefined;
    process.off("exit", this.onExit);
  }

  /** A line at the bottom that stays until replaced ("" removes it). */
  notice(text: string): void {
    this.noticeText = safeText(text);
    this.draw();
  }

  draw(): void {
    if (!this.forget) return;
    try {
      const drawn = this.compose();
      this.listHeight = drawn.listHeight;
      this.place.scroll = drawn.scroll;
      this.screen.paint(drawn.lines);
    } catch (e) {
      // The normal screen first, so the error is printed where it stays.
      this.stop();
      throw e;
    }
  }

  private restore(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.opts.output.off("resize", this.onResize);
    const input = this.opts.input;
    if (input?.isTTY) {
      input.off("data", this.onData);
      try {
        input.setRawMode(false);
      } catch {
        // the terminal is gone
      }
      input.pause();
    }
    // Synchronously: this may run on the way out of the process.
    this.screen.leave();
  }

  /** What is on screen: the frame's facts and, in order, the task rows (sorted as shown). */
  private frame(): { frame: Frame; rows: TaskRow[] } {
    const s = this.feed.session;
    const lints = this.feed.lints();
    const nowNs = this.feed.nowNs;
    const rows = s ? sortRows(taskRows(this.feed.model, s.index, nowNs, lints), this.place.sort, this.place.reverse) : [];
    const frame: Frame = {
      width: this.screen.width,
      height: this.screen.height,
      device: s ? `${safeText(s.info.device)} (${safeText(s.info.firmware)})` : "waiting for the device...",
      nowNs,
      liveTasks: rows.length,
      endedTasks: this.feed.endedTasks(rows.length),
      lints,
      status: this.opts.status?.() ?? "",
      notice: this.noticeText,
    };
    return { frame, rows };
  }

  private compose(): Drawn {
    const { frame, rows } = this.frame();
    this.follow(rows);
    this.rowsShown = rows;
    if (this.place.help) return drawHelp(frame);
    if (this.detailTask) return drawDetail(frame, taskDetail(this.feed.model, this.detailTask, frame.nowNs, frame.lints));
    const s = this.feed.session;
    switch (this.place.view) {
      case "tasks":
        this.listLength = rows.length;
        return drawTasks(frame, this.place, rows);
      case "resources": {
        const resources = s ? resourceRows(this.feed.model, s.index, frame.nowNs) : [];
        this.listLength = resources.length;
        return drawResources(frame, this.place, resources);
      }
      case "lints":
        this.listLength = frame.lints.length;
        return drawLints(frame, this.place);
    }
  }

  /** Keeps the cursor on the selected task when the task rows reorder. */
  private follow(rows: readonly TaskRow[]): void {
    if (this.place.view !== "tasks") return;
    if (this.selected !== undefined) {
      const at = rows.findIndex((r) => r.task.index === this.selected);
      if (at >= 0) this.place.cursor = at;
    }
    this.place.cursor = Math.max(0, Math.min(this.place.cursor, rows.length - 1));
    this.selected = rows[this.place.cursor]?.task.index;
  }

  private keys(data: string): void {
    for (const key of parseKeys(data)) {
      if (this.place.help) {
        this.place.help = false; // any key closes the help
        if (key !== "q" && key !== "ctrl-c") continue;
      }
      const command = commandFor(key);
      if (command) this.run(command);
    }
    this.draw();
  }

  private run(c: Command): void {
    const p = this.place;
    switch (c.type) {
      case "quit":
        this.opts.onQuit();
        return;
      case "move":
        this.moveTo(p.cursor + c.by);
        return;
      case "page":
        this.moveTo(p.cursor + c.by * Math.max(1, this.listHeight - 1));
        return;
      case "first":
        this.moveTo(0);
        return;
      case "last":
        this.moveTo(Number.MAX_SAFE_INTEGER);
        return;
      case "open":
        this.open();
        return;
      case "back":
        this.detailTask = undefined;
        return;
      case "view":
        this.show(c.view);
        return;
      case "next-view":
        this.show(VIEWS[(VIEWS.indexOf(p.view) + c.by + VIEWS.length) % VIEWS.length]!);
        return;
      case "sort":
        p.reverse = p.sort === c.key ? !p.reverse : false;
        p.sort = c.key;
        return;
      case "help":
        p.help = true;
        return;
      case "redraw":
        this.screen.invalidate();
        return;
    }
  }

  /** Moves the cursor within the list last drawn (what the user sees). */
  private moveTo(row: number): void {
    if (this.detailTask) return;
    const p = this.place;
    p.cursor = Math.max(0, Math.min(row, this.listLength - 1));
    if (p.view === "tasks") this.selected = this.rowsShown[p.cursor]?.task.index;
  }

  private show(view: View): void {
    if (this.place.view === view && !this.detailTask) return;
    this.detailTask = undefined;
    this.place.view = view;
    this.place.cursor = 0;
    this.place.scroll = 0;
  }

  /** Enter: the selected task's detail (tasks view), or the first task a lint names. */
  private open(): void {
    if (this.detailTask) return;
    if (this.place.view === "tasks") {
      this.detailTask = this.rowsShown[this.place.cursor]?.task;
    } else if (this.place.view === "lints") {
      const lint = this.feed.lints()[this.place.cursor];
      const index = lint?.tasks.find((t) => t.index !== undefined)?.index;
      if (index === undefined) return;
      this.detailTask = this.feed.model.tasks.find((t) => t.index === index);
      if (!this.detailTask) this.notice(`${safeText(lint!.tasks[0]!.name)} has ended: its record is no longer held`);
    }
  }
}
