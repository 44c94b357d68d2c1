import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { decryptSopsFile, type DecryptOutcome } from '../../src/secrets/decrypt-file.js';
import { SopsKeyring } from '../../src/secrets/keyring.js';
import { BINARY_PLAINTEXT, identitiesOf, RSA_KEY, vectorBytes } from '../support/sops-vectors.js';

/** The loader's two passes in small: look up, unwrap what was pending, read again. */
async function decrypt(name: string, keyring: SopsKeyring): Promise<DecryptOutcome> {
  const first = decryptSopsFile(name, vectorBytes(name), keyring);
  if (first.kind !== 'pending') return first;
  await keyring.unwrapPending();
  return decryptSopsFile(name, vectorBytes(name), keyring);
}

const sopsKeys = () => new SopsKeyring(identitiesOf('keys.txt'));
const otherKeys = () => new SopsKeyring(identitiesOf('other-key/keys.txt'));

async function plaintext(name: string, keyring = sopsKeys()): Promise<string> {
  const r = await decrypt(name, keyring);
  if (r.kind !== 'decrypted') throw new Error(`${name}: ${r.kind} ${r.kind === 'refused' ? r.message : ''}`);
  return r.plaintext.toString('utf8');
}

describe('SOPS vectors made by the real sops decrypt to EXPECTED.md', () => {
  it('secrets.enc.yaml (YAML, two recipients, _unencrypted values)', async () => {
    const doc = parse(await plaintext('secrets.enc.yaml'));
    expect(doc).toEqual({
      myapp1: 't00m4nys3cr3tzupdated',
      app2: { db: { user: 'eve', password: 'c4r1b0u' }, key: RSA_KEY },
      number: 1234568000,
      an_array: ['secretuser1', 'secretuser2', 'somelongvalueAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'some other value'],
      somebooleans: [true, false],
      this: { is: { a: { nested: { value: 'with something secret in it' } } } },
      somelist_unencrypted: ['all elements of this list', 'remain in clear text', 'because of the _encrypted suffix in the key'],
      nested_unencrypted: { this: { is: { all: 'going to remain in clear text' } } },
    });
  });

  it('secrets.enc.json (JSON, key order kept, empty value stays empty)', async () => {
    const text = await plaintext('secrets.enc.json');
    expect(JSON.parse(text)).toEqual({
      firstName: 'John',
      lastName: 'Smith',
      age: 25.4,
      address: { city: 'New York', postalCode: '10021-3100', state: 'NY', streetAddress: '21 2nd Street' },
      phoneNumbers: [
        { type: 'home', number: '212 555-1234' },
        { type: 'office', number: '646 555-4567' },
      ],
      anEmptyValue: '',
    });
    expect(Object.keys(JSON.parse(text))[0]).toBe('firstName');
  });

  it('binary.enc.txt (binary store: the file is the data value, byte for byte)', async () => {
    const text = await plaintext('binary.enc.txt');
    expect(text).toBe(BINARY_PLAINTEXT);
    expect(Buffer.byteLength(text)).toBe(155);
  });

  it('secrets.enc.ini (INI, [sops] section flattened)', async () => {
    const text = await plaintext('secrets.enc.ini');
    expect(text).toBe(
      [
        '[name]',
        'firstName = John',
        'lastName = Smith',
        'age = 25.4',
        '',
        '[address]',
        'city = New York',
        'postalCode = 10021-3100',
        'state = NY',
        'streetAddress = 21 2nd Street',
        '',
        '[phoneNumbers]',
        'home = 212 555-1234',
        'office = 646 555-4567',
        '',
        '[not private]',
        'notsecret_unencrypted = hi there!',
        '',
      ].join('\n'),
    );
  });

  it('minimal.enc.yaml (sops 3.10 metadata layout, one recipient)', async () => {
    expect(parse(await plaintext('minimal.enc.yaml'))).toEqual({ version: '3' });
  });

  it('other-key/app.enc.env (dotenv, another key)', async () => {
    expect(await plaintext('other-key/app.enc.env', otherKeys())).toBe('THIS_IS_ENCRYPTED=yes\n');
  });

  it('either identity of keys.txt alone opens the two-recipient files', async () => {
    for (const id of identitiesOf('keys.txt')) {
      expect(await plaintext('secrets.enc.json', new SopsKeyring([id]))).toContain('John');
    }
  });
});

describe('every tampered copy is refused', () => {
  const cases: [string, RegExp, () => SopsKeyring][] = [
    ['tampered/secrets.enc.yaml', /value at myapp1 fails its AES-GCM authentication/, sopsKeys],
    ['tampered/secrets.enc.json', /value at firstName fails its AES-GCM/, sopsKeys],
    ['tampered/binary.enc.txt', /value at data fails its AES-GCM/, sopsKeys],
    ['tampered/secrets.enc.ini', /value at name:firstName fails its AES-GCM/, sopsKeys],
    ['tampered/minimal.enc.yaml', /value at version fails its AES-GCM/, sopsKeys],
    ['tampered/other-key/app.enc.env', /value at THIS_IS_ENCRYPTED fails its AES-GCM/, otherKeys],
    // Only the MAC catches these two: every value still passes its GCM check.
    ['tampered/secrets.clear-value-changed.enc.yaml', /MAC does not match/, sopsKeys],
    ['tampered/secrets.list-reordered.enc.yaml', /MAC does not match/, sopsKeys],
  ];
  for (const [name, why, keys] of cases) {
    it(name, async () => {
      const r = await decrypt(name, keys());
      expect(r.kind).toBe('refused');
      expect(r.kind === 'refused' && r.message).toMatch(why);
    });
  }
});

describe('keys and formats', () => {
  it('a file no available identity opens is refused, naming the recipients and not any value', async () => {
    const r = await decrypt('secrets.enc.yaml', otherKeys());
    expect(r).toMatchObject({ kind: 'refused' });
    expect(r.kind === 'refused' && r.message).toMatch(/age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw.*none of the available age identities/);
  });

  it('no identity at all says where keys come from', async () => {
    const r = await decrypt('other-key/app.enc.env', new SopsKeyring([]));
    expect(r.kind === 'refused' && r.message).toMatch(/SOPS_AGE_KEY_FILE/);
  });

  it('the store follows the file name as sops does: a YAML file named .txt is not binary', () => {
    const r = decryptSopsFile('secrets.txt', vectorBytes('secrets.enc.yaml'), sopsKeys());
    expect(r.kind === 'refused' && r.message).toMatch(/read as binary/);
  });

  it('a file without SOPS metadata is plain', () => {
    expect(decryptSopsFile('a.env', Buffer.from('A=1\n'), sopsKeys()).kind).toBe('plain');
  });

  it('a second pass with the same keyring does no age work (the data key is remembered)', async () => {
    const k = sopsKeys();
    await decrypt('secrets.enc.yaml', k);
    expect(decryptSopsFile('secrets.enc.yaml', vectorBytes('secrets.enc.yaml'), k).kind).toBe('decrypted');
  });
});
