#!/usr/bin/env node
/**
 * `unigrind-lsp`: the language server's entry point. Transports are vscode-languageserver's own
 * flags: `--stdio` (editors such as Neovim), `--node-ipc` (VS Code's node module transport),
 * `--socket=<port>`, `--pipe=<name>`. With no flag it speaks over stdio.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { UnigrindServer } from './server';

const TRANSPORTS = ['--stdio', '--node-ipc', '--socket', '--pipe'];

function main(argv: string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: unigrind-lsp [--stdio | --node-ipc | --socket=PORT | --pipe=NAME]\n');
    return;
  }
  if (!argv.some((a) => TRANSPORTS.some((t) => a === t || a.startsWith(`${t}=`)))) process.argv.push('--stdio');
  const connection = createConnection(ProposedFeatures.all);
  // One failed request must not end the session: report it and keep serving.
  process.on('unhandledRejection', (e) => connection.console.error(`unigrind-lsp: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
  new UnigrindServer(connection).listen();
}

main(process.argv.slice(2));
