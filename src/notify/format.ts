import type { NotifierSpec } from '../model/desired.js';
import type { ChatMessage, ChatMessageKind, ChatSeverity } from '../ports/notifier.js';

/**
 * Request bodies per notifier type. Pure: message in, JSON-serialisable object out.
 * Every line of a message is plain text; each chat's markup is escaped here, and
 * long lists end in "… and N more" so a burst of drift is one readable message
 * that stays under the service's limits.
 *
 * Slack — incoming webhook with Block Kit:
 *   https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
 *   `text` is the fallback shown in notifications when `blocks` are present.
 *   header block: plain_text, ≤ 150 chars  https://docs.slack.dev/reference/block-kit/blocks/header-block
 *   section block: text ≤ 3000 chars       https://docs.slack.dev/reference/block-kit/blocks/section-block
 *   context block: ≤ 10 elements           https://docs.slack.dev/reference/block-kit/blocks/context-block
 *   mrkdwn control characters & < > must be sent as &amp; &lt; &gt; (else `<!channel>`
 *   in a container name would ping a channel); links are `<url|text>`, dates
 *   `<!date^unix^{date_short_pretty} {time}|fallback>` (localised per reader):
 *   https://docs.slack.dev/messaging/formatting-message-text
 *
 * Discord — Execute Webhook (`POST /webhooks/{id}/{token}`):
 *   https://discord.com/developers/docs/resources/webhook#execute-webhook
 *   content ≤ 2000 chars, up to 10 embeds; embed limits (title 256, description 4096,
 *   footer text 2048, 6000 in total across embeds):
 *   https://discord.com/developers/docs/resources/message#embed-object-embed-limits
 *   We send one embed (title, description, color, footer, timestamp, url) and no
 *   content; `allowed_mentions: {parse: []}` so no text can ping @everyone or a role:
 *   https://discord.com/developers/docs/resources/message#allowed-mentions-object
 *
 * Teams — a Workflows (Power Automate) "When a Teams webhook request is received"
 *   flow posting the card; the O365 connector MessageCard is retired and Workflows
 *   reject it. Body: `{type: 'message', attachments: [{contentType:
 *   'application/vnd.microsoft.card.adaptive', content: <AdaptiveCard>}]}`:
 *   https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
 *   https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
 *   (28 KB message limit). The card is AdaptiveCard 1.4 built from RichTextBlock /
 *   TextRun only: a TextRun is plain text ("Markdown is not supported"), so item
 *   lines need no escaping: https://adaptivecards.io/explorer/TextRun.html
 *   `msteams.width: 'Full'` widens the card in Teams:
 *   https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format
 *
 * webhook — berth's own stable JSON, one object per message, keys in a fixed order:
 *   {kind, host, title, lines, severity, revision, commitUrl, at}
 */

export type NotifierType = NotifierSpec['type'];

/** Item lines shown by a chat message before "… and N more". */
export const CHAT_MAX_LINES = 25;
/** The generic webhook is for machines: more lines, still bounded. */
export const WEBHOOK_MAX_LINES = 500;
/** One item line, before escaping. */
export const LINE_MAX = 300;

const ICON: Record<ChatMessageKind, string> = {
  'drift-appeared': '⚠️',
  'drift-resolved': '✅',
  'sync-succeeded': '🚀',
  'sync-failed': '❌',
  'validation-failed': '🚫',
  'rollout-failed': '↩️',
  'host-down': '🔌',
  'host-up': '🔗',
  test: '🔔',
};

const DISCORD_COLOR: Record<ChatSeverity, number> = { info: 0x2f81f7, warning: 0xd29922, error: 0xda3633 };
const TEAMS_COLOR: Record<ChatSeverity, string> = { info: 'Accent', warning: 'Warning', error: 'Attention' };

export function formatBody(type: NotifierType, msg: ChatMessage): object {
  switch (type) {
    case 'slack':
      return formatSlack(msg);
    case 'discord':
      return formatDiscord(msg);
    case 'teams':
      return formatTeams(msg);
    case 'webhook':
      return formatWebhook(msg);
  }
}

// ---------------------------------------------------------------- helpers

/** Newlines, tabs and other control characters become one space: one item, one line. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** At most `max` UTF-16 units, ending in "…" when cut; never splits a surrogate pair. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, Math.max(0, max - 1));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

export function moreLine(n: number): string {
  return `… and ${n} more`;
}

/**
 * The lines that fit: at most `maxLines` items, and the rendered lines joined by
 * "\n" at most `maxChars` long including the closing "… and N more".
 */
export function fitLines(
  lines: readonly string[],
  opts: { maxLines: number; maxChars: number; lineMax?: number; render?: (line: string) => string },
): string[] {
  const render = opts.render ?? ((s: string) => s);
  const lineMax = opts.lineMax ?? LINE_MAX;
  const reserve = render(moreLine(lines.length)).length + 1;
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    if (out.length >= opts.maxLines) break;
    const r = render(clip(oneLine(lines[i] ?? ''), lineMax));
    const sep = out.length > 0 ? 1 : 0;
    const budget = i === lines.length - 1 ? opts.maxChars : opts.maxChars - reserve;
    if (used + sep + r.length > budget) break;
    out.push(r);
    used += sep + r.length;
  }
  if (out.length < lines.length) out.push(render(moreLine(lines.length - out.length)));
  return out;
}

/** Only plain http(s) links with no characters that could break out of a chat's link syntax. */
export function safeLink(url: string | null | undefined): string | null {
  if (!url) return null;
  return /^https?:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:\/[A-Za-z0-9._~%/-]*)?$/.test(url) ? url : null;
}

export function shortRevision(rev: string | null | undefined): string | null {
  if (!rev) return null;
  const r = oneLine(rev);
  if (r === '') return null;
  return /^[0-9a-f]{8,64}$/i.test(r) ? r.slice(0, 7) : clip(r, 40);
}

function heading(msg: ChatMessage): string {
  return `${ICON[msg.kind]} ${oneLine(msg.title)}`;
}

// ---------------------------------------------------------------- Slack

export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const SLACK_HEADER_MAX = 150;
const SLACK_SECTION_MAX = 3000;

function slackDate(at: string): string {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return slackEscape(oneLine(at));
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${slackEscape(at)}>`;
}

export function formatSlack(msg: ChatMessage): object {
  const host = oneLine(msg.host);
  const rev = shortRevision(msg.revision);
  const link = safeLink(msg.commitUrl);
  const blocks: object[] = [{ type: 'header', text: { type: 'plain_text', text: clip(heading(msg), SLACK_HEADER_MAX), emoji: true } }];
  if (msg.lines.length > 0) {
    const lines = fitLines(msg.lines, { maxLines: CHAT_MAX_LINES, maxChars: SLACK_SECTION_MAX, render: (l) => `• ${slackEscape(l)}` });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  }
  const context: object[] = [{ type: 'mrkdwn', text: `*Host:* ${slackEscape(host)}` }];
  if (rev) context.push({ type: 'mrkdwn', text: `*Revision:* ${link ? `<${link}|${slackEscape(rev)}>` : slackEscape(rev)}` });
  else if (link) context.push({ type: 'mrkdwn', text: `<${link}|commit>` });
  context.push({ type: 'mrkdwn', text: slackDate(msg.at) });
  blocks.push({ type: 'context', elements: context });
  return { text: slackEscape(clip(`${heading(msg)} — ${host}`, 300)), blocks };
}

// ---------------------------------------------------------------- Discord

/** Backslash-escape Discord markdown, mention and link syntax. */
export function discordEscape(s: string): string {
  return s.replace(/[\\*_~`|>#<@[\]]/g, (c) => `\\${c}`);
}

const DISCORD_TITLE_MAX_RAW = 120; // escaped, at most 240 of the 256 allowed
const DISCORD_DESCRIPTION_MAX = 4096;
const DISCORD_FOOTER_MAX = 256; // the limit is 2048; a footer is one short line

export function formatDiscord(msg: ChatMessage): object {
  const rev = shortRevision(msg.revision);
  const link = safeLink(msg.commitUrl);
  const embed: Record<string, unknown> = {
    // Clip before escaping: an escape is never cut in half, and 2 × 120 < 256.
    title: discordEscape(clip(heading(msg), DISCORD_TITLE_MAX_RAW)),
  };
  if (msg.lines.length > 0) {
    embed.description = fitLines(msg.lines, { maxLines: CHAT_MAX_LINES, maxChars: DISCORD_DESCRIPTION_MAX, render: (l) => `• ${discordEscape(l)}` }).join('\n');
  }
  if (link) embed.url = link;
  embed.color = DISCORD_COLOR[msg.severity];
  // Footer text is not markdown: no escaping.
  embed.footer = { text: clip([oneLine(msg.host), rev ? `revision ${rev}` : null].filter(Boolean).join(' · '), DISCORD_FOOTER_MAX) };
  if (!Number.isNaN(Date.parse(msg.at))) embed.timestamp = new Date(Date.parse(msg.at)).toISOString();
  return { allowed_mentions: { parse: [] }, embeds: [embed] };
}

// ---------------------------------------------------------------- Teams

const TEAMS_LINES_MAX_CHARS = 12_000; // well inside the 28 KB message limit with JSON overhead

function richText(text: string, extra: Record<string, unknown> = {}, block: Record<string, unknown> = {}): object {
  return { type: 'RichTextBlock', ...block, inlines: [{ type: 'TextRun', text, ...extra }] };
}

export function formatTeams(msg: ChatMessage): object {
  const rev = shortRevision(msg.revision);
  const link = safeLink(msg.commitUrl);
  const body: object[] = [richText(clip(heading(msg), 300), { size: 'Large', weight: 'Bolder', color: TEAMS_COLOR[msg.severity] })];
  if (msg.lines.length > 0) {
    const lines = fitLines(msg.lines, { maxLines: CHAT_MAX_LINES, maxChars: TEAMS_LINES_MAX_CHARS, render: (l) => `• ${l}` });
    lines.forEach((l, i) => body.push(richText(l, {}, { spacing: i === 0 ? 'Medium' : 'None' })));
  }
  const context = [oneLine(msg.host), rev ? `revision ${rev}` : null, oneLine(msg.at)].filter(Boolean).join(' · ');
  body.push(richText(context, { isSubtle: true, size: 'Small' }, { spacing: 'Medium' }));
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    msteams: { width: 'Full' },
    body,
  };
  if (link) card.actions = [{ type: 'Action.OpenUrl', title: 'View commit', url: link }];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

// ---------------------------------------------------------------- generic webhook

export interface WebhookBody {
  kind: ChatMessageKind;
  host: string;
  title: string;
  lines: string[];
  severity: ChatSeverity;
  revision: string | null;
  commitUrl: string | null;
  at: string;
}

export function formatWebhook(msg: ChatMessage): WebhookBody {
  return {
    kind: msg.kind,
    host: msg.host,
    title: msg.title,
    lines: fitLines(msg.lines, { maxLines: WEBHOOK_MAX_LINES, maxChars: 200_000, lineMax: 2000 }),
    severity: msg.severity,
    revision: msg.revision ?? null,
    commitUrl: safeLink(msg.commitUrl),
    at: msg.at,
  };
}
