import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
/**
 * ../shared/sops-vectors, read in place: CI clones the repo next to shared/;
 * a git worktree one level deeper (wt/<branch>) finds it one more level up.
 */
export const VECTORS =
  ['../shared/sops-vectors', '../../shared/sops-vectors'].map((p) => resolve(REPO_ROOT, p)).find((p) => existsSync(p)) ?? resolve(REPO_ROOT, '../shared/sops-vectors');

export const vectorPath = (name: string) => join(VECTORS, name);
export const vectorBytes = (name: string) => readFileSync(vectorPath(name));

/** The SOPS project's test identities (keys.txt) and doco-cd's (other-key/keys.txt). */
export const identitiesOf = (file: string): string[] =>
  readFileSync(vectorPath(file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'));

export const RSA_KEY = `-----BEGIN RSA PRIVATE KEY-----
MIIBPAIBAAJBAPTMNIyHuZtpLYc7VsHQtwOkWYobkUblmHWRmbXzlAX6K8tMf3Wf
ImcbNkqAKnELzFAPSBeEMhrBN0PyOC9lYlMCAwEAAQJBALXD4sjuBn1E7Y9aGiMz
bJEBuZJ4wbhYxomVoQKfaCu+kH80uLFZKoSz85/ySauWE8LgZcMLIBoiXNhDKfQL
vHECIQD6tCG9NMFWor69kgbX8vK5Y+QL+kRq+9HK6yZ9a+hsLQIhAPn4Ie6HGTjw
fHSTXWZpGSan7NwTkIu4U5q2SlLjcZh/AiEA78NYRRBwGwAYNUqzutGBqyXKUl4u
Erb0xAEyVV7e8J0CIQC8VBY8f8yg+Y7Kxbw4zDYGyb3KkXL10YorpeuZR4LuQQIg
bKGPkMM4w5blyE1tqGN0T7sJwEx+EUOgacRNqM2ljVA=
-----END RSA PRIVATE KEY-----
`;

export const BINARY_PLAINTEXT =
  "Welcome to SOPS!\n\nSOPS is a manager of encrypted files designed to help distribute secrets.\nCheck it out, it's on github: https://github.com/mozilla/sops\n\n";

/**
 * Every encrypted plaintext value of the vectors (EXPECTED.md) that is long
 * enough not to occur by chance: the suite-wide secret scan looks for them.
 */
export const VECTOR_SECRET_VALUES: readonly string[] = [
  't00m4nys3cr3tzupdated',
  'c4r1b0u',
  'MIIBPAIBAAJBAPTMNIyHuZtpLYc7VsHQtwOkWYobkUblmHWRmbXzlAX6K8tMf3Wf',
  'secretuser1',
  'secretuser2',
  'somelongvalueAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'with something secret in it',
  '10021-3100',
  '21 2nd Street',
  '212 555-1234',
  '646 555-4567',
  'Welcome to SOPS!',
  'SOPS is a manager of encrypted files designed to help distribute secrets.',
];
