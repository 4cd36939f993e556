// Starts `inlay demo` as a subprocess and reads the two addresses it prints.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The inlay binary: $INLAY_BIN, or one built now from this checkout (the Go build embeds the
 * built viewer and SDK from internal/web/dist, so build those first).
 */
export function inlayBinary() {
  if (process.env.INLAY_BIN) return process.env.INLAY_BIN;
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'inlay-e2e-')), 'inlay');
  execFileSync('go', ['build', '-o', out, './cmd/inlay'], { cwd: repoRoot, stdio: 'inherit' });
  return out;
}

/**
 * Runs `inlay demo` on free loopback ports (with https, Inlay serves HTTPS with a self-signed
 * certificate). Resolves with {inlayURL, hostURL, output, stop} once
 * both "Inlay:" and "Host app:" lines are printed.
 */
export function startDemo(bin, { rows = 200_000, embedTTL = '5s', timeoutMs = 240_000, https = false } = {}) {
  const args = ['demo', '--addr', '127.0.0.1:0', '--host-addr', '127.0.0.1:0', '--rows', String(rows), '--embed-ttl', embedTTL];
  if (https) args.push('--https'); // self-signed certificate; the Looker tests need it
  const child = spawn(bin, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`inlay demo did not print its addresses within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      const inlay = /^Inlay:\s+(http\S+)/m.exec(output);
      const host = /^Host app:\s+(http\S+)/m.exec(output);
      if (inlay && host) {
        clearTimeout(timer);
        resolve({ inlayURL: inlay[1].replace(/\/$/, ''), hostURL: host[1].replace(/\/$/, ''), output: () => output, stop });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => {
      output += c;
      if (process.env.E2E_VERBOSE) process.stderr.write(c);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`inlay demo exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}
