/**
 * Chat notifications (PRODUCT.md §6 `notify:`, §7). One message is already a
 * batch: a drift report lists every item that appeared in one loop, one line
 * each. Formatting per chat service lives in notify/format.ts; delivery with
 * retry, backoff and rate limits in notify/dispatcher.ts; the HTTP sender in
 * adapters/http-notifier.ts.
 */
export type ChatMessageKind =
  | 'drift-appeared'
  | 'drift-resolved'
  | 'sync-succeeded'
  | 'sync-failed'
  | 'validation-failed'
  | 'rollout-failed'
  | 'host-down'
  | 'host-up'
  | 'test';

export type ChatSeverity = 'info' | 'warning' | 'error';

export interface ChatMessage {
  kind: ChatMessageKind;
  /** The host berth runs for (`--name` or the hostname). */
  host: string;
  title: string;
  /** One line per item, plain text (formatters escape it for each chat's markup). */
  lines: string[];
  severity: ChatSeverity;
  revision?: string | null;
  /** From notify/commit-url.ts when the repository lives on a known forge. */
  commitUrl?: string | null;
  /** ISO 8601. */
  at: string;
}

export interface Notifier {
  /** For logs and `berth notify test`: `spec.name ?? spec.type`. Never the URL. */
  readonly name: string;
  /**
   * Delivers one message, once. Rejects with a {@link NotifyError}-shaped error:
   * `status` is the HTTP status (null when no response arrived: timeout, refused,
   * DNS), `retryAfterMs` the parsed Retry-After when the server sent one. The
   * error text never contains the webhook URL or a secret.
   */
  send(msg: ChatMessage): Promise<void>;
}

export interface NotifyErrorShape extends Error {
  /** HTTP status, or null when the request got no response. */
  status: number | null;
  retryAfterMs?: number;
}

export class NotifyError extends Error implements NotifyErrorShape {
  override readonly name = 'NotifyError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
