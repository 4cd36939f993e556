// Messaging with the host page over @looker/chatty (docs/embedding.md). The client posts its
// handshake to window.parent with targetOrigin = embed_domain, so only a parent at that origin
// receives the message port; every later message travels over that private port.

import { Chatty } from '@looker/chatty';
import type { ChattyClientConnection } from '@looker/chatty';

export type ActionHandler = (payload: any) => unknown;

export class Bridge {
  private conn?: ChattyClientConnection;
  private pending: [string, unknown][] = [];
  private ready: Promise<ChattyClientConnection>;

  /** True when the page runs inside a frame and knows the host's origin (a host to talk to). */
  readonly embedded: boolean;

  constructor(embedDomain: string, actions: Record<string, ActionHandler>) {
    this.embedded = window.parent !== window && embedDomain !== '';
    if (!this.embedded) {
      this.ready = new Promise(() => undefined); // no host: requests time out
      return;
    }
    let builder = Chatty.createClient().withTargetOrigin(embedDomain).withDefaultTimeout(30_000);
    for (const [name, fn] of Object.entries(actions)) builder = builder.on(name, (...args: any[]) => fn(args[0]));
    this.ready = builder.build().connect();
    this.ready.then((c) => {
      this.conn = c;
      for (const [name, payload] of this.pending) c.send(name, payload);
      this.pending = [];
    });
  }

  /** Sends an event; events sent before the handshake completes are queued. */
  send(eventName: string, payload: unknown): void {
    if (!this.embedded) return;
    if (this.conn) this.conn.send(eventName, payload);
    else this.pending.push([eventName, payload]);
  }

  /** Sends an event and resolves with the host's first answer. */
  async request<T>(eventName: string, payload: unknown, timeoutMs: number): Promise<T> {
    const conn = await withTimeout(this.ready, timeoutMs, 'the host page did not connect');
    const answers = await conn.sendAndReceive(eventName, payload);
    return (Array.isArray(answers) ? answers.find((a) => a !== undefined && a !== null) : answers) as T;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
