/**
 * `aether start` as a child process, as a user runs it: its own process group (a Ctrl-C at the
 * terminal reaches the bench, which stops it), every line of its output kept in a log file and the
 * JSON lines handed to listeners, and the two ways it ends — a clean stop (SIGTERM) or `kill -9` of
 * the runtime and of its embedded PostgreSQL's postmaster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, serverProcesses } from '../../lib/runtime/embedded-postgres.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface LogLine {
  run: number; // which start of the runtime (1 = first)
  at: number; // Date.now() when the bench read it
  json: Record<string, unknown> | null;
  text: string;
}

export interface RuntimeOptions {
  home: string;
  env: Record<string, string>;
  logFile: string;
  extraLogFile?: string | undefined;
  onLine: (line: LogLine) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Runtime {
  private child: ChildProcess | null = null;
  private runs = 0;
  private output = '';
  url: string | null = null;
  onboardingToken: string | null = null;
  /** Why the last run ended, once it has. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly o: RuntimeOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.exit === null;
  }

  get starts(): number {
    return this.runs;
  }

  /** The postmaster of the embedded PostgreSQL, from its data directory's postmaster.pid. */
  postmasterPid(): number | null {
    const f = join(this.o.home, 'pg', 'postmaster.pid');
    if (!existsSync(f)) return null;
    const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
    return pid > 0 ? pid : null;
  }

  /** Starts `aether start` and resolves once it printed its URL (rejects if it exits or takes longer than `timeoutMs`). */
  async start(timeoutMs = 180_000): Promise<{ url: string; ms: number }> {
    if (this.running) throw new Error('the runtime is already running');
    this.runs++;
    const run = this.runs;
    this.url = null;
    this.exit = null;
    this.output = '';
    const started = performance.now();
    const child = spawn(process.execPath, [join(REPO, 'bin/aether.js'), 'start'], {
      cwd: REPO,
      env: this.o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the terminal's Ctrl-C goes to the bench only
    });
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      }),
    );
    this.note(run, `---- aether start #${run} (pid ${child.pid}) at ${new Date().toISOString()}`);
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          this.line(run, rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
      });
      stream.on('end', () => {
        if (rest) this.line(run, rest);
        rest = '';
      });
    }
    const deadline = Date.now() + timeoutMs;
    while (this.url === null) {
      const ended = this.exit as Runtime['exit']; // set by the exit listener meanwhile
      if (ended) throw new Error(`aether start #${run} exited (${ended.signal ?? `code ${ended.code}`}) before it was ready:\n${this.output.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`aether start #${run} was not ready within ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
      await sleep(50);
    }
    return { url: this.url, ms: Math.round(performance.now() - started) };
  }

  private note(run: number, text: string): void {
    appendFileSync(this.o.logFile, `${text}\n`);
    if (this.o.extraLogFile) appendFileSync(this.o.extraLogFile, `${text}\n`);
    void run;
  }

  private line(run: number, text: string): void {
    this.note(run, text);
    if (this.output.length < 200_000) this.output += `${text}\n`;
    const m = /running at (https?:\/\/[^\s]+)/.exec(text);
    if (m && run === this.runs) this.url = m[1]!;
    const t = /one-time onboarding token ([A-Za-z0-9_-]{16,})/.exec(text);
    if (t) this.onboardingToken = t[1]!;
    let json: Record<string, unknown> | null = null;
    if (text.startsWith('{')) {
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = null;
      }
    }
    this.o.onLine({ run, at: Date.now(), json, text });
  }

  /**
   * `kill -9` of the runtime and of its PostgreSQL's postmaster, as a crash or an OOM kill would:
   * nothing gets to clean up (the postmaster's children are left to notice on their own).
   */
  kill9(): { runtimePid: number | null; postmasterPid: number | null } {
    const runtimePid = this.pid;
    const postmasterPid = this.postmasterPid();
    if (runtimePid !== null && this.running) process.kill(runtimePid, 'SIGKILL');
    if (postmasterPid !== null && alive(postmasterPid)) process.kill(postmasterPid, 'SIGKILL');
    return { runtimePid, postmasterPid };
  }

  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.child) return true;
    return Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
  }

  /**
   * A clean stop: SIGTERM, as a supervisor sends; after `graceMs` SIGKILL to the whole process group.
   * Then nothing of it may remain on the data directory (the embedded PostgreSQL included).
   * Returns how long the shutdown took and whether it was clean.
   */
  async stop(graceMs = 30_000): Promise<{ ms: number; clean: boolean; code: number | null; signal: NodeJS.Signals | null }> {
    const t0 = performance.now();
    let clean = true;
    if (this.child && this.running) {
      process.kill(this.child.pid!, 'SIGTERM');
      if (!(await this.waitExit(graceMs))) {
        clean = false;
        try {
          process.kill(-this.child.pid!, 'SIGKILL');
        } catch {
          // the group is gone
        }
        await this.waitExit(5000);
      }
    }
    const ms = Math.round(performance.now() - t0);
    clean = (await this.reapDataDir()) && clean;
    return { ms, clean, code: this.exit?.code ?? null, signal: this.exit?.signal ?? null };
  }

  /** Kills whatever still runs on the data directory (a postmaster the runtime did not stop, its children). */
  async reapDataDir(): Promise<boolean> {
    const dataDir = join(this.o.home, 'pg');
    const pm = this.postmasterPid();
    // By working directory (PostgreSQL's processes sit in the data directory); without /proc, the postmaster.pid pid.
    const left = () => (serverProcesses(dataDir) ?? (pm !== null ? [pm] : [])).filter(alive);
    if (left().length === 0) return true;
    for (let i = 0; i < 40 && left().length > 0; i++) await sleep(50);
    const stray = left();
    for (const pid of stray) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    for (let i = 0; i < 100 && left().length > 0; i++) await sleep(50);
    return stray.length === 0;
  }
}
