// Wycheproof AES-GCM vectors run through our decrypt wrapper. The data lives outside the repo, in
// ../shared/testdata/wycheproof (relative to the project root); without it the suite is skipped
// with a message saying so and where the file is expected, never faked.
import fs from 'node:fs';
import path from 'node:path';
import { DecryptionError, openAead, openAeadDetached } from '../../../src/secrets/aead';

// test/unit/secrets -> the project root is three levels up; the shared folder is its sibling.
const ROOT = path.resolve(__dirname, '../../..');
const VECTORS = path.resolve(ROOT, '../shared/testdata/wycheproof/aes_gcm_test.json');

const MISSING_VECTORS = [
  'Skipping the Wycheproof AES-GCM vector tests: the vector file is not there.',
  "They run the public Wycheproof project's AES-GCM test vectors (C2SP/wycheproof, testvectors_v1/aes_gcm_test.json),",
  `which this repository does not carry: they are read from ${path.relative(ROOT, VECTORS)}, relative to the project root`,
  `(${VECTORS}). Put the file there to run them.`,
].join('\n');

interface Vector {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: string;
}

interface VectorGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: Vector[];
}

interface VectorFile {
  numberOfTests: number;
  testGroups: VectorGroup[];
}

type Outcome = { ok: true; plaintext: Buffer } | { ok: false; error: unknown };

function attempt(run: () => Buffer): Outcome {
  try {
    return { ok: true, plaintext: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Runs one vector through both entry points: detached tag, and ciphertext||tag as stored. */
function decrypt(vector: Vector): Outcome[] {
  const hex = (value: string): Buffer => Buffer.from(value, 'hex');
  const [key, iv, ct, tag, aad] = [hex(vector.key), hex(vector.iv), hex(vector.ct), hex(vector.tag), hex(vector.aad)];
  return [attempt(() => openAeadDetached(key, iv, ct, tag, aad)), attempt(() => openAead(key, iv, Buffer.concat([ct, tag]), aad))];
}

const present = fs.existsSync(VECTORS);
if (!present) console.warn(MISSING_VECTORS);
const maybeDescribe = present ? describe : describe.skip;

maybeDescribe('aead against Wycheproof AES-GCM vectors', () => {
  let file: VectorFile;
  const supported: Vector[] = [];
  const invalid: Vector[] = [];
  const unsupportedValid: Vector[] = [];

  beforeAll(() => {
    file = JSON.parse(fs.readFileSync(VECTORS, 'utf8')) as VectorFile;
    for (const group of file.testGroups) {
      const ours = group.keySize === 256 && group.ivSize === 96 && group.tagSize === 128;
      for (const vector of group.tests) {
        if (vector.result === 'invalid') invalid.push(vector);
        else if (vector.result === 'valid' && ours) supported.push(vector);
        else if (vector.result === 'valid') unsupportedValid.push(vector);
        // 'acceptable' or anything new must be looked at, not silently dropped.
        else throw new Error(`tcId ${vector.tcId}: unexpected result "${vector.result}"`);
      }
    }
  });

  test('classifies every vector in the file', () => {
    expect(supported.length + invalid.length + unsupportedValid.length).toBe(file.numberOfTests);
    expect(file.numberOfTests).toBeGreaterThan(0);
  });

  test('decrypts every valid 256-bit-key, 96-bit-IV, 128-bit-tag vector to the expected message', () => {
    expect(supported.length).toBeGreaterThan(0);
    for (const vector of supported) {
      for (const outcome of decrypt(vector)) {
        expect({ tcId: vector.tcId, plaintext: outcome.ok ? outcome.plaintext.toString('hex') : 'rejected' }).toEqual({
          tcId: vector.tcId,
          plaintext: vector.msg,
        });
      }
    }
  });

  test('rejects every invalid vector with DecryptionError', () => {
    expect(invalid.length).toBeGreaterThan(0);
    for (const vector of invalid) {
      for (const outcome of decrypt(vector)) {
        expect({ tcId: vector.tcId, rejected: !outcome.ok && outcome.error instanceof DecryptionError }).toEqual({
          tcId: vector.tcId,
          rejected: true,
        });
      }
    }
  });

  test('rejects valid vectors whose key, IV or tag size the wrapper does not support', () => {
    expect(unsupportedValid.length).toBeGreaterThan(0);
    for (const vector of unsupportedValid) {
      for (const outcome of decrypt(vector)) {
        expect({ tcId: vector.tcId, rejected: !outcome.ok && outcome.error instanceof DecryptionError }).toEqual({
          tcId: vector.tcId,
          rejected: true,
        });
      }
    }
  });
});
