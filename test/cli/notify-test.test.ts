import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { recordingServer } from '../support/recording-server.js';
import { tmpRepo } from '../support/tmp-repo.js';

describe('berth notify test', async () => {
  const chat = await recordingServer((r) => (r.path.startsWith('/broken') ? 500 : 200));
  afterAll(() => chat.close());

  it('sends one test message to each notifier and names the ones that failed, never their URLs', async () => {
    const token = 'T0KEN-in-the-url-9f2c';
    const repo = tmpRepo({
      'berth.yaml': `notify:\n  - {type: slack, url: "${chat.url}/slack/\${SLACK_TOKEN}", name: team-chat}\n  - {type: webhook, url: "${chat.url}/broken/${token}", secret: s3cr3t-hmac}\n`,
      'stacks/app/compose.yaml': 'services:\n  web: {image: "berth-test/web:v1"}\n',
    });
    const r = await runCli(['notify', 'test', '--repo', repo, '--name', 'test-host'], { SLACK_TOKEN: token });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/✓ team-chat/);
    expect(r.stdout).toMatch(/✗ webhook/);
    expect(r.output).not.toContain(token);
    expect(r.output).not.toContain('s3cr3t-hmac');
    const slack = chat.received.find((x) => x.path.startsWith('/slack/'))!;
    expect(JSON.parse(slack.body).text).toMatch(/Test message from berth on test-host/);
  });

  it('exits 1 when berth.yaml has no notifier', async () => {
    const repo = tmpRepo({ 'stacks/app/compose.yaml': 'services:\n  web: {image: "berth-test/web:v1"}\n' });
    expect((await runCli(['notify', 'test', '--repo', repo])).code).toBe(1);
  });
});
