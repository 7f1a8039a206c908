import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** One long-running program of the system: a service, the gateway or the sandbox provider. */
export interface ProcessSpec {
  name: string;
  /** The TypeScript entry point, run with tsx so no build step is needed. */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Polled until it answers 2xx; the process counts as started only then. */
  readyUrl?: string;
}

export interface RunningProcess {
  spec: ProcessSpec;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

export interface LineSink {
  (processName: string, line: string): void;
}

const COLOURS = [36, 33, 35, 32, 34, 31, 96, 93];
const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

/** Prefixes each line with the process name, padded so the columns line up. */
export function prefixedConsoleSink(names: readonly string[]): LineSink {
  const width = Math.max(...names.map((name) => name.length));
  return (name, line) => {
    const label = name.padEnd(width);
    const colour = COLOURS[names.indexOf(name) % COLOURS.length];
    const prefix = useColour ? `\u001b[${colour}m${label} |\u001b[0m` : `${label} |`;
    process.stdout.write(`${prefix} ${line}\n`);
  };
}

export function startProcess(spec: ProcessSpec, sink: LineSink): RunningProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => sink(spec.name, line));
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { spec, child, exited };
}

/** Waits until `url` answers 2xx, or fails after `timeoutMs` or when the process dies. */
export async function waitUntilReady(running: RunningProcess, timeoutMs = 60_000): Promise<void> {
  const url = running.spec.readyUrl;
  if (!url) return;
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void running.exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${running.spec.name} exited before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${running.spec.name} was not ready at ${url} within ${timeoutMs} ms`);
}

/**
 * Asks a process to stop (SIGTERM, so it drains in-flight work) and kills it if it has not
 * ended within `graceMs`.
 */
export async function stopProcess(running: RunningProcess, graceMs = 10_000): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), graceMs);
  await once(running.child, 'exit').catch(() => undefined);
  clearTimeout(timer);
}

/** Kills a process at once, as a crash would: no drain, no cleanup. */
export async function killProcess(running: RunningProcess): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGKILL');
  await running.exited;
}
