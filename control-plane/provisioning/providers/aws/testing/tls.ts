/** A throwaway TLS identity for an in-process server on 127.0.0.1, made by the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  /** Private key, PEM. */
  readonly key: string;
  /** Certificate for IP 127.0.0.1, PEM: its own CA. */
  readonly cert: string;
  /** The certificate as a kubeconfig's `certificate-authority-data` (base64 of the PEM), as EKS gives it. */
  readonly caData: string;
}

/** A self-signed P-256 certificate for 127.0.0.1, valid for a day. */
export function selfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'saas-kit-tls-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    const key = readFileSync(keyFile, 'utf8');
    const cert = readFileSync(certFile, 'utf8');
    return { key, cert, caData: Buffer.from(cert, 'utf8').toString('base64') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
