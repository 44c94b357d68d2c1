import type { ChatMessage } from '../ports/notifier.js';
import type { MessageContext } from './messages.js';

/**
 * A berth.yaml host whose engine stopped answering, and its return. One
 * message each per outage: the other hosts keep converging meanwhile. The
 * engine's error is the adapter's text (an address, a refusal), never a
 * credential: endpoints in berth.yaml carry none (TLS keys are file paths).
 */
export function hostDown(docker: string, detail: string | null, ctx: MessageContext): ChatMessage {
  return {
    kind: 'host-down',
    title: `Host ${ctx.host} is unreachable; its stacks are not reconciled until it answers again (the other hosts are)`,
    lines: [`engine: ${docker}`, ...(detail ? [`error: ${detail}`] : [])],
    severity: 'error',
    host: ctx.host,
    revision: null,
    commitUrl: null,
    at: ctx.at.toISOString(),
  };
}

export function hostUp(docker: string, ctx: MessageContext): ChatMessage {
  return {
    kind: 'host-up',
    title: `Host ${ctx.host} answers again; berth reconciles it`,
    lines: [`engine: ${docker}`],
    severity: 'info',
    host: ctx.host,
    revision: null,
    commitUrl: null,
    at: ctx.at.toISOString(),
  };
}
