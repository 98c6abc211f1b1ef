#!/usr/bin/env node
/**
 * `unigrind` debug adapter: speaks DAP on stdin/stdout (the `program` of the debugger contributed
 * in extension/package.json, so any DAP client starts it the same way). The guest's own stdout and
 * stderr are captured by the adapter and never reach the protocol stream.
 */
import { DebugSession } from '@vscode/debugadapter';
import { UnigrindDebugSession } from './debug-session';

// stdout carries the protocol: stray console output of any module must not corrupt it.
console.log = console.error;
console.info = console.error;

DebugSession.run(UnigrindDebugSession);
