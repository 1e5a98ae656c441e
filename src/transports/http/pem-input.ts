import { x509 } from "../../core/pki/index.js";
import { privateKeyToPkcs8 } from "../../core/crypto/private-key-encoding.js";
import { invalidInput } from "../../core/shared/domain-error.js";

/** The DER of the single PEM block in a request field, or a 400 naming the field. */
export function derFromPem(text: string, labels: readonly string[], field: string): Uint8Array {
  return x509.pemDecodeOne(text, [...labels], field);
}

/** Every certificate in an optional PEM chain field. */
export function certificatesFromPem(text: string | undefined, field: string): Uint8Array[] {
  if (text === undefined || text.trim() === "") return [];
  return x509.pemDecodeAll(text).map((block, index) => {
    if (block.label !== "CERTIFICATE") throw invalidInput(field, `PEM block ${index + 1} is ${block.label}, expected CERTIFICATE`);
    return block.der;
  });
}

/** A private key field (PKCS#8, PKCS#1 or SEC1 PEM) as DER PKCS#8. */
export function pkcs8FromPem(text: string, field: string): Uint8Array {
  return privateKeyToPkcs8(text, field);
}

/** `DNS:x`, `IP:x`, `email:x`, `URI:x` strings as validated general names. */
export function generalNames(texts: readonly string[] | undefined, field: string): x509.GeneralName[] | undefined {
  return texts?.map((text) => x509.parseGeneralNameText(text, field));
}
