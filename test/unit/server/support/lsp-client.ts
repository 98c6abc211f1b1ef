/**
 * A minimal LSP client for tests: spawns `dist/server/main.js --stdio`, speaks JSON-RPC through
 * vscode-languageserver-protocol's client-side connection, records published diagnostics and
 * server-to-client requests, and answers `workspace/configuration` from given settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

/** dist/server/main.js (tests run from dist/test/unit/server/support). */
export const SERVER_MAIN = path.resolve(__dirname, '../../../../server/main.js');

/** Capabilities of a client like VS Code: watched files, configuration, refresh, related info. */
export const VSCODE_LIKE: ClientCapabilities = {
  workspace: {
    configuration: true,
    workspaceFolders: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
    codeLens: { refreshSupport: true },
    inlayHint: { refreshSupport: true },
  },
  textDocument: {
    publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true },
    codeAction: { dataSupport: true, codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    inlayHint: {},
    codeLens: {},
  },
};

/** Capabilities of a bare client: no file watching, no configuration requests. */
export const BARE: ClientCapabilities = { workspace: { workspaceFolders: true }, textDocument: { publishDiagnostics: { relatedInformation: true } } };

/** A running server and what it sent. */
export class TestClient {
  readonly connection: ProtocolConnection;
  /** Latest diagnostics per URI. */
  readonly diagnostics = new Map<string, Diagnostic[]>();
  /** Methods of server→client requests received, in order. */
  readonly requests: string[] = [];
  readonly messages: string[] = [];
  private readonly proc: ChildProcess;
  private readonly waiters: (() => void)[] = [];

  /**
   * @param settings the `unigrind` section returned to `workspace/configuration`
   * @param serverMain the server's entry point (the packaged one, for the packaging test)
   */
  constructor(private settings: unknown = {}, serverMain: string = SERVER_MAIN) {
    this.proc = spawn(process.execPath, [serverMain, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.connection = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.proc.on('exit', (code, signal) => {
      if (code !== 0) process.stderr.write(`unigrind-lsp exited: ${code} ${signal}\n`);
    });
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      this.poke();
    });
    this.connection.onNotification('window/showMessage', (p: { message: string }) => {
      this.messages.push(p.message);
      this.poke();
    });
    this.connection.onNotification('window/logMessage', () => undefined);
    this.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
      this.record('workspace/configuration');
      return params.items.map(() => this.settings);
    });
    for (const method of ['client/registerCapability', 'client/unregisterCapability', 'workspace/codeLens/refresh', 'workspace/inlayHint/refresh']) {
      this.connection.onRequest(method, () => {
        this.record(method);
        return null;
      });
    }
    this.connection.listen();
  }

  /** initialize + initialized for one workspace folder. */
  async start(folder: string, capabilities: ClientCapabilities = VSCODE_LIKE): Promise<void> {
    await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uri(folder),
      workspaceFolders: [{ uri: uri(folder), name: path.basename(folder) }],
      capabilities,
    });
    await this.connection.sendNotification('initialized', {});
  }

  /** Change the settings and tell the server, as VS Code does (pull model). */
  async setSettings(settings: unknown): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
  }

  /** Open a file as a text document. */
  async open(file: string, text: string, languageId = 'c'): Promise<void> {
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uri(file), languageId, version: 1, text } });
  }

  /** Diagnostics of a file (empty when none were published). */
  diagnosticsOf(file: string): Diagnostic[] {
    return this.diagnostics.get(uri(file)) ?? [];
  }

  /** Resolve when `cond` holds, re-checking after every message; reject after `ms`. */
  async waitFor(what: string, cond: () => boolean, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** shutdown + exit, then wait for the process to end. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      this.proc.kill();
    }
    await exited;
    this.connection.dispose();
  }

  private record(method: string): void {
    this.requests.push(method);
    this.poke();
  }

  private poke(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** file URI of a path, as the server writes them. */
export function uri(p: string): string {
  return pathToFileURL(p).href;
}
