import type { KeyAlgorithm, SignatureAlgorithm } from "../../crypto/algorithms.js";
import { DomainError, invalidInput } from "../../shared/domain-error.js";
import { derError, isContext, readBitString, readDer, readOid, readSmallInteger, sequenceItems, Tag, type DerNode } from "./der/der-reader.js";
import { parseExtensionsNode, type CertificateExtensions } from "./extensions.js";
import { withField } from "./field-error.js";
import { parseNameNode, type DistinguishedName } from "./name.js";
import { Pkcs9Oid } from "./oids.js";
import { inspectPublicKeyNode } from "./public-key.js";
import { parseSignatureAlgorithmNode, verifyWithKey } from "./signature-algorithm.js";

// PKCS #10 certification requests (RFC 2986), parsed strictly and verified.

/** A verified CSR: what it names, the key it proves possession of, and the extensions it asks for. */
export interface CertificateRequest {
  readonly der: Uint8Array;
  readonly subject: DistinguishedName;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeySpki: Uint8Array;
  readonly publicKeyAlgorithm: KeyAlgorithm;
  /** From the PKCS #9 extensionRequest attribute; empty when there is none. */
  readonly requestedExtensions: CertificateExtensions;
  readonly signatureAlgorithm: SignatureAlgorithm;
}

/**
 * Parses and verifies a DER CSR: version must be 0 (v1), the self-signature must verify, and of
 * the attributes only extensionRequest is read (RFC 2985 §5.4.2); challengePassword and others
 * are ignored. Requested extensions are syntax-checked; unknown critical ones are refused.
 */
export function parseCertificateRequest(der: Uint8Array): CertificateRequest {
  return withField("csr", () => {
    const root = readDer(der);
    const [info, algorithmNode, signatureNode] = sequenceItems(root, "CertificationRequest", 3, 3);
    if (!info || !algorithmNode || !signatureNode) throw derError("CertificationRequest: malformed", root.offset);
    // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, attributes [0] IMPLICIT SET OF Attribute }
    const [versionNode, subjectNode, spkiNode, attributesNode] = sequenceItems(info, "CertificationRequestInfo", 4, 4);
    if (!versionNode || !subjectNode || !spkiNode || !isContext(attributesNode, 0) || !attributesNode.constructed) {
      throw derError("CertificationRequestInfo: attributes [0] missing", info.offset);
    }
    const version = readSmallInteger(versionNode, "version");
    if (version !== 0) throw invalidInput("csr", `version must be 0 (v1, RFC 2986 §4.1), found ${version}`);
    const subject = parseNameNode(subjectNode);
    const key = inspectPublicKeyNode(spkiNode);
    const signatureAlgorithm = parseSignatureAlgorithmNode(algorithmNode);
    const { bytes: signature } = readBitString(signatureNode, "signature");
    if (!verifyWithKey(key, signatureAlgorithm, info.bytes, signature)) {
      throw new DomainError("invalid_input", "CSR signature does not verify", { field: "csr" });
    }
    return {
      der: root.bytes,
      subject,
      publicKeySpki: spkiNode.bytes,
      publicKeyAlgorithm: key.algorithm,
      requestedExtensions: readExtensionRequest(attributesNode),
      signatureAlgorithm,
    };
  });
}

function readExtensionRequest(attributes: DerNode): CertificateExtensions {
  let found: DerNode | undefined;
  for (const attribute of attributes.children) {
    // Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE(1..MAX) OF AttributeValue }
    const [typeNode, values] = sequenceItems(attribute, "Attribute", 2, 2);
    if (!typeNode || !values || values.tagClass !== "universal" || values.tag !== Tag.SET || values.children.length === 0) {
      throw derError("Attribute: values must be a non-empty SET", attribute.offset);
    }
    if (readOid(typeNode, "attribute type") !== Pkcs9Oid.extensionRequest) continue;
    if (found || values.children.length !== 1) throw invalidInput("csr", "extensionRequest must appear once with one value (RFC 2985 §5.4.2)");
    found = values.children[0];
  }
  if (!found) return {};
  // An empty Extensions list is legal here (some tools write one) and means nothing was requested.
  return found.tagClass === "universal" && found.tag === Tag.SEQUENCE && found.children.length === 0 ? {} : parseExtensionsNode(found, "request");
}
