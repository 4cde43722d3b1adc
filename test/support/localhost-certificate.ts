// A throwaway self-signed TLS certificate for `localhost` (and 127.0.0.1, ::1), made with the
// openssl command, for fakes that must be reached the way production reaches the real service:
// over TLS, trusting only this certificate.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface LocalhostCertificate {
  /** PEM. */
  certificate: string;
  /** PEM (PKCS#8). */
  privateKey: string;
  /** A file holding the certificate, readable by every user (for GRPC_DEFAULT_SSL_ROOTS_FILE_PATH and the like). */
  certificatePath: string;
  remove(): void;
}

export async function createLocalhostCertificate(): Promise<LocalhostCertificate> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'vault-localhost-certificate-'));
  chmodSync(directory, 0o755);
  const certificatePath = path.join(directory, 'certificate.pem');
  const keyPath = path.join(directory, 'key.pem');
  try {
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-keyout',
      keyPath,
      '-out',
      certificatePath,
    ]);
    chmodSync(certificatePath, 0o644);
    return {
      certificate: readFileSync(certificatePath, 'utf8'),
      privateKey: readFileSync(keyPath, 'utf8'),
      certificatePath,
      remove: () => rmSync(directory, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw new Error(`could not make a certificate with openssl: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
