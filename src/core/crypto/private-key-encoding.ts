import { createPrivateKey } from "node:crypto";
import { invalidInput } from "../shared/domain-error.js";

/** PEM labels of the unencrypted private-key encodings accepted on import. */
const ACCEPTED_LABELS = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

/**
 * Converts an unencrypted private key in PEM — PKCS#8 (RFC 5208), PKCS#1 (RFC 8017) or SEC1
 * (RFC 5915), the forms openssl, kubeadm and cfssl write — to DER PKCS#8. Encrypted keys are refused:
 * kpki would need the passphrase, which should not travel over the API.
 */
export function privateKeyToPkcs8(pem: string, field: string): Uint8Array {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === undefined) throw invalidInput(field, "expected a PEM private key");
  if (label === "ENCRYPTED PRIVATE KEY" || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw invalidInput(field, "encrypted private keys are not accepted; decrypt it first (openssl pkey -in key.pem -out plain.pem)");
  }
  if (!ACCEPTED_LABELS.includes(label)) throw invalidInput(field, `PEM label ${label} is not a private key (expected ${ACCEPTED_LABELS.join(", ")})`);
  try {
    return new Uint8Array(createPrivateKey({ key: pem, format: "pem" }).export({ type: "pkcs8", format: "der" }));
  } catch {
    throw invalidInput(field, "the private key PEM cannot be parsed");
  }
}
