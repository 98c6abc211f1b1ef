/** Driving the debug adapter in tests: a DebugClient on dist/adapter/main.js and a few helpers. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { REPO_ROOT } from '../../support/paths';

/** The compiled adapter, as the extension's manifest names it. */
export const ADAPTER = join(REPO_ROOT, 'dist/adapter/main.js');

/** An adapter process with the events it sent, collected from the start. */
export class Adapter {
  readonly dc: DebugClient;
  readonly output: DebugProtocol.OutputEvent['body'][] = [];
  readonly errorEvents: Array<{ record: { kind: string; unique: number; what: string; stack: unknown[] }; pid?: number }> = [];

  constructor() {
    this.dc = new DebugClient(process.execPath, ADAPTER, 'unigrind');
    // Generous: CI runs two test files at a time, and the memcheck oracle suite saturates both cores.
    this.dc.defaultTimeout = 150_000;
    this.dc.on('output', (e: DebugProtocol.OutputEvent) => this.output.push(e.body));
    this.dc.on('unigrind.error', (e: DebugProtocol.Event) => this.errorEvents.push(e.body));
  }

  async start(): Promise<void> {
    await this.dc.start();
  }

  /** Everything written to the debug console in one category. */
  text(category: string): string {
    return this.output.filter((o) => (o.category ?? 'console') === category).map((o) => o.output).join('');
  }

  /**
   * Launches, lets `configure` send breakpoints after `initialized`, and finishes the
   * configuration. Resolves once the launch response arrived.
   */
  async launch(args: Record<string, unknown>, configure: () => Promise<unknown> = async () => undefined): Promise<void> {
    const initialized = this.dc.waitForEvent('initialized');
    const launched = this.dc.launch(args);
    await initialized;
    await configure();
    await this.dc.configurationDoneRequest();
    await launched;
  }

  /** Launches and waits for the first stop. */
  async launchToStop(args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
    const stopped = this.dc.waitForEvent('stopped');
    await this.launch(args, configure);
    return (await stopped) as DebugProtocol.StoppedEvent;
  }

  /** Sends a request that resumes and waits for the next stop. */
  async resumeToStop(resume: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
    const stopped = this.dc.waitForEvent('stopped');
    await resume();
    return (await stopped) as DebugProtocol.StoppedEvent;
  }

  /** Continues and waits for the exit code. */
  async continueToExit(): Promise<number> {
    const exited = this.dc.waitForEvent('exited');
    await this.dc.continueRequest({ threadId: 1 });
    return ((await exited) as DebugProtocol.ExitedEvent).body.exitCode;
  }

  async topFrame(threadId = 1): Promise<DebugProtocol.StackFrame> {
    const st = await this.dc.stackTraceRequest({ threadId });
    assert.ok(st.body.stackFrames.length > 0, 'no stack frames');
    return st.body.stackFrames[0];
  }

  /** The variables of a frame's scope, by scope name. */
  async scope(frameId: number, name: string): Promise<DebugProtocol.Variable[]> {
    const scopes = await this.dc.scopesRequest({ frameId });
    const s = scopes.body.scopes.find((x) => x.name === name);
    assert.ok(s, `no ${name} scope in ${scopes.body.scopes.map((x) => x.name).join(', ')}`);
    return (await this.dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
  }

  async children(v: DebugProtocol.Variable): Promise<DebugProtocol.Variable[]> {
    assert.ok(v.variablesReference > 0, `${v.name} has no children`);
    return (await this.dc.variablesRequest({ variablesReference: v.variablesReference })).body.variables;
  }

  async evaluate(expression: string, frameId?: number): Promise<DebugProtocol.EvaluateResponse['body']> {
    return (await this.dc.evaluateRequest({ expression, frameId, context: 'repl' })).body;
  }

  async stop(): Promise<void> {
    await this.dc.stop();
  }
}

/** The variable called name in a list. */
export function named(vars: DebugProtocol.Variable[], name: string): DebugProtocol.Variable {
  const v = vars.find((x) => x.name === name);
  assert.ok(v, `no variable ${name} in ${vars.map((x) => x.name).join(', ')}`);
  return v;
}
