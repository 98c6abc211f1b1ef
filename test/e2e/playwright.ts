/**
 * playwright-core, loaded from the end-to-end test's cache folder (it is not a dependency of the
 * project, so the compiler cannot see its own types): the few calls the test makes, typed here.
 * Browser-side code is passed as strings, since the project compiles without the DOM library.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** A page of the browser. */
export interface Page {
  goto(url: string, options?: { timeout?: number }): Promise<unknown>;
  waitForSelector(selector: string, options?: { state?: 'attached' | 'visible' | 'hidden'; timeout?: number }): Promise<unknown>;
  /** Resolves once the expression is truthy in the page. */
  waitForFunction(expression: string, arg?: unknown, options?: { timeout?: number; polling?: number }): Promise<unknown>;
  /** The value of an expression evaluated in the page (JSON-serialisable). */
  evaluate(expression: string): Promise<unknown>;
  readonly keyboard: { press(key: string): Promise<void>; type(text: string, options?: { delay?: number }): Promise<void> };
  readonly mouse: { move(x: number, y: number): Promise<void> };
  screenshot(options: { path: string; type?: 'png' }): Promise<Buffer>;
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
}

/** A running browser. */
export interface Browser {
  newPage(options: { viewport: { width: number; height: number }; deviceScaleFactor?: number }): Promise<Page>;
  close(): Promise<void>;
}

/** What `require('playwright-core')` offers the test. */
export interface Playwright {
  chromium: {
    launch(options: { executablePath: string; headless: boolean; chromiumSandbox?: boolean; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<Browser>;
  };
}

/** Load playwright-core as installed in `cacheDir`. */
export function loadPlaywright(cacheDir: string): Playwright {
  return createRequire(path.join(cacheDir, 'package.json'))('playwright-core') as Playwright;
}
