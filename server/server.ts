/**
 * The unigrind language server: wires the LSP connection to the finding store, the XML sources,
 * the suppression file and the feature modules. Every change (a file, a live record, a setting,
 * the suppression file) leads to one `refresh()`, which re-places all findings and republishes.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  MessageType,
  ShowMessageNotification,
  TextDocumentSyncKind,
  TextDocuments,
  type ClientCapabilities,
  type Connection,
  type Diagnostic,
  type Disposable,
  type FileSystemWatcher,
  type InitializeParams,
  type InitializeResult,
  type WorkspaceFolder,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeActions, isDiagnosticData } from './code-actions';
import { functionLenses } from './code-lens';
import { buildDiagnostics, toDiagnostic, uriOf } from './diagnostics';
import { FindingStore } from './findings';
import { hoverAt } from './hover';
import { leakHints } from './inlay-hints';
import { Locator } from './locate';
import { placeFindings, type Placement } from './placement';
import {
  ADD_SUPPRESSION_COMMAND,
  CLEAR_FINDINGS_NOTIFICATION,
  FINDINGS_NOTIFICATION,
  LOAD_XML_REQUEST,
  SETTINGS_SECTION,
  type AddSuppressionArgs,
  type ClearFindingsParams,
  type DiagnosticData,
  type FindingsParams,
  type LoadXmlParams,
  type LoadXmlResult,
} from './protocol';
import { DEFAULT_SETTINGS, readSettings, type Settings } from './settings';
import { CachedTextSource } from './source-text';
import { SuppressionFile } from './suppression-file';
import { FolderWatcher } from './workspace-files';
import { XmlSources } from './xml-sources';

/** Coalesce bursts of changes (a scan loading many files) into one publication. */
const REFRESH_DELAY_MS = 40;

/** Absolute path of a file URI, or undefined for other schemes. */
export function pathOfUri(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** The language server bound to one connection. */
export class UnigrindServer {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly store = new FindingStore();
  private readonly xml: XmlSources;
  private readonly supp = new SuppressionFile((m) => this.connection.console.warn(m));
  private readonly text = new CachedTextSource((p) => this.openText(p));
  private settings: Settings = { ...DEFAULT_SETTINGS };
  private folders: string[] = [];
  private caps: ClientCapabilities = {};
  private initOptions: unknown;
  private placement: Placement = { placed: [], suppressed: [] };
  private locator = new Locator([]);
  private published = new Set<string>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private watcherRegistration: Disposable | undefined;
  private folderWatcher: FolderWatcher | undefined;
  /** Settings and folders of the last reconfiguration. */
  private configuredState = '';

  constructor(private readonly connection: Connection) {
    this.xml = new XmlSources(this.store, (m) => connection.console.warn(m));
    this.store.onDidChange(() => this.scheduleRefresh());
    this.documents.listen(connection);
    this.documents.onDidOpen(() => this.scheduleRefresh());
    connection.onInitialize((p) => this.initialize(p));
    connection.onInitialized(() => void this.initialized());
    connection.onShutdown(() => this.dispose());
    connection.onDidChangeConfiguration((p) => void this.reconfigure(p.settings));
    connection.onDidChangeWatchedFiles((p) => {
      for (const change of p.changes) {
        const file = pathOfUri(change.uri);
        if (file !== undefined) this.fileChanged(file);
      }
    });
    connection.onHover((p) => {
      const file = pathOfUri(p.textDocument.uri);
      return file === undefined ? null : hoverAt(this.placement.placed, file, p.position.line);
    });
    connection.onCodeAction((p) => {
      const file = pathOfUri(p.textDocument.uri);
      if (file === undefined) return [];
      return codeActions(p.context.diagnostics, (d) => this.recoverData(file, d), path.basename(this.supp.path ?? this.settings.suppressionFile));
    });
    connection.onCodeLens((p) => {
      const file = pathOfUri(p.textDocument.uri);
      if (file === undefined || !this.settings.codeLens) return [];
      return functionLenses(this.placement.placed, file, this.text);
    });
    connection.languages.inlayHint.on((p) => {
      const file = pathOfUri(p.textDocument.uri);
      if (file === undefined || !this.settings.inlayHints) return [];
      return leakHints(this.placement.placed, file, p.range.start.line, p.range.end.line, this.text);
    });
    connection.onExecuteCommand((p) => (p.command === ADD_SUPPRESSION_COMMAND ? this.addSuppression(p.arguments?.[0]) : undefined));
    connection.onNotification(FINDINGS_NOTIFICATION, (p: FindingsParams) => this.store.applyLive(p));
    connection.onNotification(CLEAR_FINDINGS_NOTIFICATION, (p: ClearFindingsParams | undefined) => {
      if (p?.sessionId === undefined) this.xml.dismissAll();
      this.store.clear(p?.sessionId);
    });
    connection.onRequest(LOAD_XML_REQUEST, (p: LoadXmlParams) => this.loadXml(p));
  }

  /** Start reading messages. */
  listen(): void {
    this.connection.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    this.caps = params.capabilities;
    this.initOptions = params.initializationOptions;
    this.folders = foldersOf(params.workspaceFolders, params.rootUri, params.rootPath);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
        inlayHintProvider: true,
        executeCommandProvider: { commands: [ADD_SUPPRESSION_COMMAND] },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'unigrind-lsp', version: '0.1.0' },
    };
  }

  private async initialized(): Promise<void> {
    if (this.caps.workspace?.didChangeConfiguration?.dynamicRegistration) {
      await this.connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
    }
    if (this.caps.workspace?.workspaceFolders) {
      this.connection.workspace.onDidChangeWorkspaceFolders((e) => {
        const removed = new Set(e.removed.map((f) => pathOfUri(f.uri)));
        this.folders = [...this.folders.filter((f) => !removed.has(f)), ...foldersOf(e.added, null, null)];
        void this.reconfigure(undefined);
      });
    }
    await this.reconfigure(undefined);
  }

  /**
   * Re-read settings, then rescan, rewatch and republish everything — unless neither the settings
   * nor the folders changed (clients also send didChangeConfiguration right after starting).
   */
  private async reconfigure(pushed: unknown): Promise<void> {
    const settings = await this.fetchSettings(pushed);
    const state = JSON.stringify([settings, this.folders]);
    if (state === this.configuredState) return;
    this.configuredState = state;
    this.settings = settings;
    this.xml.configure(this.folders, this.settings);
    this.supp.load(this.suppressionPath());
    await this.watch();
    await this.xml.scan();
    this.scheduleRefresh();
  }

  private async fetchSettings(pushed: unknown): Promise<Settings> {
    if (this.caps.workspace?.configuration) {
      try {
        return readSettings(await this.connection.workspace.getConfiguration({ section: SETTINGS_SECTION }));
      } catch {
        // fall through to what the client pushed
      }
    }
    const fromPush = (pushed as Record<string, unknown> | undefined)?.[SETTINGS_SECTION];
    if (fromPush !== undefined) return readSettings(fromPush);
    const init = this.initOptions as Record<string, unknown> | undefined;
    return readSettings(init?.[SETTINGS_SECTION] ?? init?.settings ?? init);
  }

  private suppressionPath(): string | undefined {
    const s = this.settings.suppressionFile;
    if (path.isAbsolute(s)) return s;
    const root = this.folders[0];
    return root === undefined ? undefined : path.join(root, s);
  }

  /**
   * Watch XML and suppression files: through the client when it can (one watcher service for the
   * whole editor), else with our own fs watches.
   */
  private async watch(): Promise<void> {
    this.watcherRegistration?.dispose();
    this.watcherRegistration = undefined;
    this.folderWatcher?.dispose();
    this.folderWatcher = undefined;
    const dyn = this.caps.workspace?.didChangeWatchedFiles;
    if (dyn?.dynamicRegistration) {
      const patterns = [this.settings.xmlInclude, '**/*.supp'];
      const supp = this.suppressionPath();
      const watchers: FileSystemWatcher[] = [];
      for (const folder of this.folders) {
        for (const pattern of patterns) {
          watchers.push({ globPattern: dyn.relativePatternSupport ? { baseUri: uriOf(folder), pattern } : anywhere(pattern) });
        }
      }
      if (supp !== undefined) watchers.push({ globPattern: supp });
      this.watcherRegistration = await this.connection.client.register(DidChangeWatchedFilesNotification.type, { watchers });
      return;
    }
    const watcher = new FolderWatcher((file) => this.fileChanged(file));
    for (const folder of this.folders) watcher.watch(folder, this.xml.excluded);
    this.folderWatcher = watcher;
  }

  private fileChanged(file: string): void {
    if (file === this.supp.path) {
      if (this.supp.load(file)) this.scheduleRefresh();
      return;
    }
    this.xml.changed(file);
  }

  private async loadXml(p: LoadXmlParams): Promise<LoadXmlResult> {
    const file = pathOfUri(p.uri);
    if (file === undefined) throw new Error(`not a file URI: ${p.uri}`);
    const run = await this.xml.loadExplicit(file);
    this.refreshNow();
    const shown = this.placement.placed.filter((x) => x.finding.source.xmlPath === file).length;
    return { records: run.errors.length + run.document.fatalSignals.length, shown };
  }

  private addSuppression(arg: unknown): { uri: string; name: string } {
    const a = arg as Partial<AddSuppressionArgs> | undefined;
    if (!a || typeof a.name !== 'string' || !a.suppression || !Array.isArray(a.suppression.frames)) {
      throw new Error(`${ADD_SUPPRESSION_COMMAND}: expected { name, suppression } argument`);
    }
    this.supp.load(this.suppressionPath());
    const name = this.supp.append(a.name, { kind: a.suppression.kind, extra: a.suppression.extra ?? [], frames: a.suppression.frames });
    this.refreshNow();
    const file = this.supp.path as string;
    // A notification, not window/showMessageRequest: nothing to wait for, and clients without
    // message-request support must not turn it into an error.
    void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message: `unigrind: added suppression '${name}' to ${path.basename(file)}` });
    return { uri: uriOf(file), name };
  }

  /** Diagnostic data for a client that dropped it: the finding of the same kind on that line. */
  private recoverData(file: string, d: Diagnostic): DiagnosticData | undefined {
    const p = this.placement.placed.find((x) => x.path === file && x.line === d.range.start.line && x.finding.record.kind === d.code);
    const data: unknown = p ? toDiagnostic(p, this.text, this.locator).data : undefined;
    return isDiagnosticData(data) ? data : undefined;
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => this.refreshNow(), REFRESH_DELAY_MS);
  }

  /** Place every finding again and publish the result. */
  private refreshNow(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.text.reset();
    this.locator = new Locator(this.folders);
    this.placement = placeFindings(this.store.all(), this.settings, this.locator, this.supp.entries);
    const byFile = buildDiagnostics(this.placement, this.text, this.locator);
    const now = new Set<string>();
    for (const [file, diagnostics] of byFile) {
      const uri = uriOf(file);
      now.add(uri);
      void this.connection.sendDiagnostics({ uri, diagnostics });
    }
    for (const uri of this.published) if (!now.has(uri)) void this.connection.sendDiagnostics({ uri, diagnostics: [] });
    this.published = now;
    if (this.caps.workspace?.codeLens?.refreshSupport) void this.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    if (this.caps.workspace?.inlayHint?.refreshSupport) void this.connection.languages.inlayHint.refresh().catch(() => undefined);
  }

  private openText(file: string): string | undefined {
    for (const doc of this.documents.all()) if (pathOfUri(doc.uri) === file) return doc.getText();
    return undefined;
  }

  private dispose(): void {
    clearTimeout(this.refreshTimer);
    this.watcherRegistration?.dispose();
    this.folderWatcher?.dispose();
    this.xml.dispose();
  }
}

function foldersOf(folders: WorkspaceFolder[] | null | undefined, rootUri: string | null | undefined, rootPath: string | null | undefined): string[] {
  if (folders && folders.length > 0) return folders.flatMap((f) => pathOfUri(f.uri) ?? []);
  const root = (rootUri ? pathOfUri(rootUri) : undefined) ?? rootPath ?? undefined;
  return root ? [root] : [];
}

/** A glob relative to a folder, made to match absolute paths for clients without RelativePattern. */
function anywhere(pattern: string): string {
  return pattern.startsWith('**/') || pattern.startsWith('/') ? pattern : `**/${pattern}`;
}
