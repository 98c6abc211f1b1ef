/**
 * The Debug Adapter Protocol side (vscode-mock-debug's MockDebugSession in spirit): each runtime
 * event becomes one DAP event, each DAP request one runtime call. No engine logic lives here.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  BreakpointEvent, Event, ExitedEvent, Handles, InitializedEvent, LoggingDebugSession, OutputEvent, Source, StackFrame,
  StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { stackTextLines } from '../engine/report/frames';
import { errorText } from '../engine/report/text-writer';
import { printedFrames } from '../engine/errors/stack';
import { DAP_ERROR_EVENT, DapErrorEventBody, ErrorRecord as ProtocolErrorRecord } from '../server/protocol';
import { ERROR_FAMILIES } from './exception-filters';
import type { LaunchArguments } from './launch-config';
import {
  ExceptionStop, OutputCategory, RuntimeBreakpoint, RuntimeFrame, RuntimeInstruction, RuntimeVariable, UnigrindRuntime,
} from './runtime';

/** How long launch waits for configurationDone before running anyway (a client that never sends it). */
const CONFIGURATION_TIMEOUT_MS = 5000;

interface UnigrindLaunchRequestArguments extends DebugProtocol.LaunchRequestArguments, LaunchArguments {}

const hex = (n: number): string => `0x${n.toString(16)}`;

export class UnigrindDebugSession extends LoggingDebugSession {
  private readonly runtime = new UnigrindRuntime();
  private variables = new Handles<() => RuntimeVariable[]>();
  private configured: () => void = () => undefined;
  private readonly configurationDone = new Promise<void>((resolve) => {
    this.configured = resolve;
  });
  private pid: number | undefined;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    const r = this.runtime;
    r.on('stopOnEntry', (tid: number) => this.stopped(new StoppedEvent('entry', tid)));
    r.on('stopOnStep', (tid: number) => this.stopped(new StoppedEvent('step', tid)));
    r.on('stopOnPause', (tid: number) => this.stopped(new StoppedEvent('pause', tid)));
    r.on('stopOnBreakpoint', (kind: string, ids: number[], tid: number) => {
      const reason = kind === 'function' ? 'function breakpoint' : kind === 'instruction' ? 'instruction breakpoint' : 'breakpoint';
      const e = new StoppedEvent(reason, tid) as DebugProtocol.StoppedEvent;
      e.body.hitBreakpointIds = ids;
      this.stopped(e);
    });
    r.on('stopOnException', (x: ExceptionStop) => {
      const e = new StoppedEvent('exception', x.threadId, x.what) as DebugProtocol.StoppedEvent;
      e.body.description = x.leaks ? 'Paused after the leak check' : `Paused on ${x.kind}`;
      this.stopped(e);
    });
    r.on('output', (text: string, category: OutputCategory) => this.sendEvent(new OutputEvent(text, category)));
    r.on('errorRecord', (record: ProtocolErrorRecord) => {
      const body: DapErrorEventBody = this.pid !== undefined ? { record, pid: this.pid } : { record };
      this.sendEvent(new Event(DAP_ERROR_EVENT, body));
    });
    r.on('breakpointChanged', (bp: RuntimeBreakpoint) => this.sendEvent(new BreakpointEvent('changed', this.toBreakpoint(bp))));
    r.on('process', (pid: number, name: string) => {
      this.pid = pid;
      this.sendEvent(new Event('process', { name, systemProcessId: pid, isLocalProcess: true, startMethod: 'launch' }));
    });
    r.on('exited', (code: number) => this.sendEvent(new ExitedEvent(code)));
    r.on('end', () => this.sendEvent(new TerminatedEvent()));
  }

  private stopped(e: DebugProtocol.StoppedEvent): void {
    // Variable references are valid until the guest moves on.
    this.variables = new Handles();
    e.body.allThreadsStopped = true;
    this.sendEvent(e);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsInstructionBreakpoints: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionFilterOptions: true,
      exceptionBreakpointFilters: ERROR_FAMILIES.map((f) => ({ filter: f.filter, label: f.label, description: f.description, default: true })),
      supportsEvaluateForHovers: true,
      supportsReadMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsSteppingGranularity: true,
      supportsTerminateRequest: true,
      supportTerminateDebuggee: true,
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: UnigrindLaunchRequestArguments): Promise<void> {
    try {
      await this.runtime.start(args);
    } catch (e) {
      this.sendErrorResponse(response, { id: 1001, format: (e as Error).message, showUser: true });
      this.sendEvent(new TerminatedEvent());
      return;
    }
    // The program is loaded: breakpoints sent now resolve against its debug info.
    this.sendEvent(new InitializedEvent());
    await Promise.race([this.configurationDone, new Promise((r) => setTimeout(r, CONFIGURATION_TIMEOUT_MS))]);
    this.sendResponse(response);
    void this.runtime.run();
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured();
    this.sendResponse(response);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const lines = args.breakpoints?.map((b) => b.line) ?? args.lines ?? [];
    const file = args.source.path;
    const bps = file ? this.runtime.setSourceBreakpoints(file, lines) : [];
    response.body = { breakpoints: bps.map((b) => this.toBreakpoint(b, args.source)) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    response.body = { breakpoints: this.runtime.setFunctionBreakpoints(args.breakpoints.map((b) => b.name)).map((b) => this.toBreakpoint(b)) };
    this.sendResponse(response);
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    const addrs = args.breakpoints.map((b) => Number(b.instructionReference) + (b.offset ?? 0));
    response.body = { breakpoints: this.runtime.setInstructionBreakpoints(addrs).map((b) => this.toBreakpoint(b)) };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.runtime.setExceptionFilters([...args.filters, ...(args.filterOptions ?? []).map((o) => o.filterId)]);
    this.sendResponse(response);
  }

  private toBreakpoint(b: RuntimeBreakpoint, source?: DebugProtocol.Source): DebugProtocol.Breakpoint {
    const out: DebugProtocol.Breakpoint = { id: b.id, verified: b.verified };
    if (b.line !== undefined) out.line = b.line;
    if (source) out.source = source;
    else if (b.file) out.source = new Source(path.basename(b.file), b.file);
    if (b.addresses.length) out.instructionReference = hex(b.addresses[0]);
    if (b.message) out.message = b.message;
    return out;
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: this.runtime.threads().map((t) => new Thread(t.id, t.name)) };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const all = this.runtime.stack(args.threadId);
    const start = args.startFrame ?? 0;
    const frames = all.slice(start, args.levels ? start + args.levels : undefined);
    response.body = { stackFrames: frames.map((f) => this.toStackFrame(f)), totalFrames: all.length };
    this.sendResponse(response);
  }

  private toStackFrame(f: RuntimeFrame): DebugProtocol.StackFrame {
    const source = f.file !== undefined ? this.source(f.file) : undefined;
    const sf: DebugProtocol.StackFrame = new StackFrame(f.id, f.inlined ? `${f.name} [inlined]` : f.name, undefined, f.line ?? 0, 1);
    if (source) sf.source = source;
    sf.instructionPointerReference = hex(f.ip);
    if (f.module) sf.moduleId = f.module;
    if (!source) sf.presentationHint = 'subtle';
    return sf;
  }

  private source(file: string): DebugProtocol.Source {
    const s: DebugProtocol.Source = new Source(path.basename(file), file);
    // libc and other sources that are not on this machine: still named, but shown as such.
    if (!fs.existsSync(file)) s.presentationHint = 'deemphasize';
    return s;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    response.body = {
      scopes: this.runtime.scopes(args.frameId).map((s) => ({
        name: s.name, presentationHint: s.presentationHint, variablesReference: this.variables.create(s.variables), expensive: s.presentationHint === 'registers',
      })),
    };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const fn = this.variables.get(args.variablesReference);
    let list = fn ? fn() : [];
    if (args.filter === 'named') list = list.filter((v) => !v.name.startsWith('['));
    if (args.start !== undefined || args.count !== undefined) list = list.slice(args.start ?? 0, args.count ? (args.start ?? 0) + args.count : undefined);
    response.body = { variables: list.map((v) => this.toVariable(v)) };
    this.sendResponse(response);
  }

  private toVariable(v: RuntimeVariable): DebugProtocol.Variable {
    const out: DebugProtocol.Variable = { name: v.name, value: v.value, variablesReference: v.children ? this.variables.create(v.children) : 0 };
    if (v.type !== undefined) out.type = v.type;
    if (v.evaluateName !== undefined) out.evaluateName = v.evaluateName;
    if (v.memoryReference !== undefined) out.memoryReference = v.memoryReference;
    return out;
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    try {
      const v = this.runtime.evaluate(args.expression, args.frameId);
      response.body = { result: v.value, variablesReference: v.children ? this.variables.create(v.children) : 0 };
      if (v.type !== undefined) response.body.type = v.type;
      if (v.memoryReference !== undefined) response.body.memoryReference = v.memoryReference;
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: 1002, format: (e as Error).message, showUser: false });
    }
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const x = this.runtime.exception();
    if (!x) {
      this.sendErrorResponse(response, { id: 1003, format: 'not stopped on a memcheck error', showUser: false });
      return;
    }
    const first = x.records[0];
    response.body = {
      exceptionId: x.kind,
      description: x.what,
      breakMode: 'always',
      details: {
        message: x.records.map((r) => errorText(r)).join('\n'),
        typeName: x.leaks ? 'Memcheck:Leak' : `Memcheck:${x.kind}`,
        fullTypeName: x.kind,
        stackTrace: first ? stackTextLines(printedFrames(first.stack)).join('\n') : '',
        // The auxiliary lines ("Address … is 0 bytes after a block of size 10 alloc'd") with their
        // stacks; at the leak stop, one per loss record.
        innerException: x.leaks
          ? x.records.map((r) => ({ message: r.what, typeName: r.kind, stackTrace: stackTextLines(printedFrames(r.stack)).join('\n') }))
          : (first?.aux ?? []).map((a) => ({
            message: a.text, typeName: a.role ?? 'auxwhat',
            ...(a.stack ? { stackTrace: stackTextLines(printedFrames(a.stack)).join('\n') } : {}),
          })),
      },
    };
    this.sendResponse(response);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.runtime.continue();
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    if (args.granularity === 'instruction') this.runtime.stepInstruction();
    else this.runtime.step('next');
    this.sendResponse(response);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    if (args.granularity === 'instruction') this.runtime.stepInstruction();
    else this.runtime.step('in');
    this.sendResponse(response);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.runtime.step('out');
    this.sendResponse(response);
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.runtime.pause();
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.runtime.terminate();
    this.sendResponse(response);
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    // The guest lives in this process: disconnecting ends it, after its report is complete.
    await this.runtime.kill();
    this.sendResponse(response);
    this.shutdown();
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const r = this.runtime.readMemory(Number(args.memoryReference) + (args.offset ?? 0), args.count);
    response.body = { address: hex(r.address), data: Buffer.from(r.data).toString('base64'), unreadableBytes: r.unreadable };
    this.sendResponse(response);
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    const addr = Number(args.memoryReference) + (args.offset ?? 0);
    const list = this.runtime.disassemble(addr, args.instructionOffset ?? 0, args.instructionCount);
    response.body = { instructions: list.map((i) => this.toInstruction(i)) };
    this.sendResponse(response);
  }

  private toInstruction(i: RuntimeInstruction): DebugProtocol.DisassembledInstruction {
    const out: DebugProtocol.DisassembledInstruction = { address: hex(i.address), instructionBytes: i.bytes, instruction: i.text };
    if (i.symbol) out.symbol = i.symbol;
    if (i.file !== undefined) out.location = this.source(i.file);
    if (i.line !== undefined) out.line = i.line;
    if (i.invalid) out.presentationHint = 'invalid';
    return out;
  }
}
