/**
 * Starts unigrind's language server (dist/server/main.js inside the extension) with
 * vscode-languageclient over Node IPC, the "node module" transport.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

/** The language server's entry point, relative to the extension's root. */
export const SERVER_MODULE = path.join('dist', 'server', 'main.js');

/** Create (not start) the client. */
export function createLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath(SERVER_MODULE);
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Findings can land in any compiled language's sources, and, for errors outside the
    // workspace, in the XML file itself: every file document is of interest.
    documentSelector: [{ scheme: 'file' }],
  };
  // The id 'unigrind' makes the client honour the `unigrind.trace.server` setting.
  return new LanguageClient('unigrind', 'unigrind (memcheck)', serverOptions, clientOptions);
}
