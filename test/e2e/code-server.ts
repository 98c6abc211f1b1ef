/**
 * One code-server for the end-to-end test: its own user-data and extensions folders (so no state
 * leaks between runs or from the user's own setup), the .vsix installed, workspace trust off (a
 * launch configuration must run without the trust dialog), served on a free loopback port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CODE_SERVER_BIN } from './install';

/** User settings: nothing opens or asks on start, so the test finds the workbench as it left it. */
const USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'editor.inlayHints.enabled': 'on',
  // The Debug Console would take the panel from the Problems view when the session starts.
  'debug.internalConsoleOptions': 'neverOpen',
};

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A running code-server. */
export class CodeServer {
  private process: ChildProcess | undefined;
  private output = '';

  private constructor(readonly url: string) {}

  /** The environment of every code-server run: its config file stays in the scratch folder. */
  private static env(dir: string): NodeJS.ProcessEnv {
    return { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data') };
  }

  private static baseArgs(dir: string): string[] {
    return ['--config', path.join(dir, 'config.yaml'), '--user-data-dir', path.join(dir, 'user-data'), '--extensions-dir', path.join(dir, 'extensions')];
  }

  /**
   * Install the extension and serve `folder`.
   * @param dir scratch folder for its configuration, user data and extensions (created)
   * @param vsix the packaged extension
   * @param folder the workspace to open
   */
  static async start(dir: string, vsix: string, folder: string): Promise<CodeServer> {
    fs.mkdirSync(path.join(dir, 'user-data', 'User'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.yaml'), '');
    fs.writeFileSync(path.join(dir, 'user-data', 'User', 'settings.json'), `${JSON.stringify(USER_SETTINGS, null, 2)}\n`);
    const install = spawnSync(CODE_SERVER_BIN, [...CodeServer.baseArgs(dir), '--install-extension', vsix, '--force'], { encoding: 'utf8', env: CodeServer.env(dir) });
    if (install.status !== 0 || !/successfully installed/.test(install.stdout)) {
      throw new Error(`installing ${vsix} failed:\n${install.stdout}\n${install.stderr}`);
    }
    const port = await freePort();
    const server = new CodeServer(`http://127.0.0.1:${port}/`);
    const args = [...CodeServer.baseArgs(dir), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', folder];
    // Its own process group: stop() ends it with the extension host and debug adapter it starts.
    const child = spawn(CODE_SERVER_BIN, args, { env: CodeServer.env(dir), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.process = child;
    const keep = (b: Buffer): void => {
      server.output += b.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await server.waitUntilServing();
    return server;
  }

  /** Its log so far (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** The workbench URL for a folder. */
  folderUrl(folder: string): string {
    return `${this.url}?folder=${encodeURIComponent(folder)}`;
  }

  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.process?.exitCode !== null) throw new Error(`code-server exited:\n${this.output}`);
      try {
        const r = await fetch(`${this.url}healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`code-server did not answer within a minute:\n${this.output}`);
  }

  /** End code-server and everything it started. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  }
}
