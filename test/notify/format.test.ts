import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHAT_MAX_LINES, fitLines, formatBody, formatDiscord, formatSlack, formatTeams, formatWebhook, safeLink, type NotifierType } from '../../src/notify/format.js';
import type { ChatMessage } from '../../src/ports/notifier.js';
import { expectGolden } from '../support/golden.js';

// Golden files hold the exact request bodies. After an intended change:
//   UPDATE_GOLDEN=1 npx vitest run test/notify/format.test.ts
// then read the diff of test/notify/golden/ before committing it.
const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

const golden = (name: string, body: object): void => expectGolden(GOLDEN, name, `${JSON.stringify(body, null, 2)}\n`);

const DRIFT: ChatMessage = {
  kind: 'drift-appeared',
  host: 'prod-1',
  title: '3 drift items appeared',
  lines: [
    'shop/web: container shop-web-1 stopped: expected running, found exited (Exited (137) 2 minutes ago)',
    'shop/worker: container shop-worker-1 modified: expected config 3f2a9c1, found config 77b0e4d (recreated outside berth)',
    'shop: network shop_internal has an unmanaged container attached: debug_shell',
  ],
  severity: 'warning',
  revision: '4e1f0c2a9b7d3e5f6a8c0b1d2e3f4a5b6c7d8e9f',
  commitUrl: 'https://github.com/acme/infra/commit/4e1f0c2a9b7d3e5f6a8c0b1d2e3f4a5b6c7d8e9f',
  at: '2025-03-14T10:42:07.000Z',
};

const INVALID: ChatMessage = {
  kind: 'validation-failed',
  host: 'prod-1',
  title: 'Commit 9c1d2e3 failed validation: not applied, the last good state stays',
  lines: [
    'stacks/shop/compose.yaml:12:7: services.web.image must be a string',
    'stacks/shop/compose.yaml:31:3: services.web.depends_on names an unknown service "cache"',
    'berth.yaml:4:13: policy.selfHeal must be a boolean',
  ],
  severity: 'error',
  revision: '9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d',
  commitUrl: 'https://gitlab.com/acme/ops/infra/-/commit/9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d',
  at: '2025-03-14T11:05:00.000Z',
};

const TYPES: NotifierType[] = ['slack', 'discord', 'teams', 'webhook'];

describe('golden request bodies', () => {
  for (const type of TYPES) {
    it(`${type}: drift appeared (3 items)`, () => golden(`${type}-drift-appeared.json`, formatBody(type, DRIFT)));
    it(`${type}: validation failed`, () => golden(`${type}-validation-failed.json`, formatBody(type, INVALID)));
  }
});

function many(n: number, width = 40): ChatMessage {
  return { ...DRIFT, title: `${n} drift items appeared`, lines: Array.from({ length: n }, (_, i) => `item ${String(i + 1).padStart(3, '0')} ${'x'.repeat(width)}`) };
}

type Json = Record<string, any>;

describe('long lists', () => {
  it('30 items: one message per chat listing 25 and "… and 5 more"; the webhook keeps all 30', () => {
    const m = many(30);
    const slack = formatSlack(m) as Json;
    const section: string = slack.blocks[1].text.text;
    expect(section.split('\n')).toHaveLength(CHAT_MAX_LINES + 1);
    expect(section.split('\n').at(-1)).toBe('• … and 5 more');
    const discord = formatDiscord(m) as Json;
    expect((discord.embeds[0].description as string).split('\n').at(-1)).toBe('• … and 5 more');
    const teams = formatTeams(m) as Json;
    const runs = (teams.attachments[0].content.body as Json[]).map((b) => b.inlines[0].text as string);
    expect(runs).toContain('• … and 5 more');
    expect(formatWebhook(m).lines).toHaveLength(30);
  });

  it('stays within every service limit for huge items, and the count adds up', () => {
    const m = { ...many(400, 1000), title: 'T'.repeat(500) };
    const slack = formatSlack(m) as Json;
    expect(slack.blocks[0].text.text.length).toBeLessThanOrEqual(150);
    const section: string = slack.blocks[1].text.text;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(slack.blocks[2].elements.length).toBeLessThanOrEqual(10);

    const embed = (formatDiscord(m) as Json).embeds[0];
    expect(embed.title.length).toBeLessThanOrEqual(256);
    expect(embed.description.length).toBeLessThanOrEqual(4096);
    expect(embed.footer.text.length).toBeLessThanOrEqual(2048);
    expect(embed.title.length + embed.description.length + embed.footer.text.length).toBeLessThanOrEqual(6000);
    expect((formatDiscord(m) as Json).embeds.length).toBeLessThanOrEqual(10);

    expect(Buffer.byteLength(JSON.stringify(formatTeams(m)))).toBeLessThan(28 * 1024);

    for (const text of [section, embed.description as string]) {
      const shown = text.split('\n');
      const more = /… and (\d+) more$/.exec(shown.at(-1)!);
      expect(more).not.toBeNull();
      expect(shown.length - 1 + Number(more![1])).toBe(400);
    }
  });

  it('fitLines: a multi-line item stays one line; nothing is cut when it all fits', () => {
    expect(fitLines(['a\nb\r\nc', 'd'], { maxLines: 5, maxChars: 100 })).toEqual(['a b c', 'd']);
    expect(fitLines(['a', 'b', 'c'], { maxLines: 2, maxChars: 100 })).toEqual(['a', 'b', '… and 1 more']);
    expect(fitLines([], { maxLines: 2, maxChars: 100 })).toEqual([]);
  });
});

describe('escaping and links', () => {
  const nasty: ChatMessage = {
    ...DRIFT,
    title: 'drift on <!channel> *now*',
    lines: ['container <!channel> & <https://evil.example|click> @everyone *bold* _it_ [x](https://evil.example) `code`'],
  };

  it('Slack: & < > become entities, so no ping and no injected link', () => {
    const body = formatSlack(nasty) as Json;
    const section: string = body.blocks[1].text.text;
    expect(section).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    expect(section).not.toMatch(/<[!h]/);
    expect(body.text).not.toContain('<!channel>');
    // The header is plain_text: shown as typed.
    expect(body.blocks[0].text).toMatchObject({ type: 'plain_text', text: '⚠️ drift on <!channel> *now*' });
  });

  it('Discord: markdown, mentions and links are escaped and mentions disabled', () => {
    const body = formatDiscord(nasty) as Json;
    expect(body.allowed_mentions).toEqual({ parse: [] });
    const d: string = body.embeds[0].description;
    expect(d).toContain('\\<!channel\\>');
    expect(d).toContain('\\@everyone \\*bold\\* \\_it\\_ \\[x\\](https://evil.example) \\`code\\`');
  });

  it('Teams: TextRuns are plain text, so lines go in unchanged', () => {
    const body = formatTeams(nasty) as Json;
    const texts = (body.attachments[0].content.body as Json[]).flatMap((b) => b.inlines.map((r: Json) => r.text));
    expect(texts).toContain(`• ${nasty.lines[0]}`);
    expect((body.attachments[0].content.body as Json[]).every((b) => b.type === 'RichTextBlock')).toBe(true);
  });

  it('only plain http(s) commit links are used', () => {
    expect(safeLink('https://github.com/a/b/commit/abc1234')).toBe('https://github.com/a/b/commit/abc1234');
    expect(safeLink('javascript:alert(1)')).toBeNull();
    expect(safeLink('https://x.example/a|b')).toBeNull();
    expect(safeLink('https://x.example/a>b')).toBeNull();
    const body = formatDiscord({ ...DRIFT, commitUrl: 'javascript:alert(1)' }) as Json;
    expect(body.embeds[0].url).toBeUndefined();
    expect(formatWebhook({ ...DRIFT, commitUrl: 'javascript:alert(1)' }).commitUrl).toBeNull();
  });

  it('without a revision or link: no revision context, no link, no card action', () => {
    const m: ChatMessage = { kind: 'test', host: 'prod-1', title: 'berth notify test', lines: [], severity: 'info', at: '2025-03-14T10:00:00.000Z' };
    const slack = formatSlack(m) as Json;
    expect(slack.blocks.map((b: Json) => b.type)).toEqual(['header', 'context']);
    expect(JSON.stringify(slack.blocks[1])).not.toContain('Revision');
    const discord = formatDiscord(m) as Json;
    expect(discord.embeds[0].url).toBeUndefined();
    expect(discord.embeds[0].description).toBeUndefined();
    expect(discord.embeds[0].footer.text).toBe('prod-1');
    expect((formatTeams(m) as Json).attachments[0].content.actions).toBeUndefined();
    expect(formatWebhook(m)).toEqual({ kind: 'test', host: 'prod-1', title: 'berth notify test', lines: [], severity: 'info', revision: null, commitUrl: null, at: '2025-03-14T10:00:00.000Z' });
  });

  it('the generic webhook keeps a stable key order', () => {
    expect(Object.keys(formatWebhook(DRIFT))).toEqual(['kind', 'host', 'title', 'lines', 'severity', 'revision', 'commitUrl', 'at']);
  });
});
