import type { CryptographicAlgorithm, ObjectType } from "./kmip-vocabulary.js";
import { USAGE, usageMask, usageNames, type UsageName } from "./kmip-vocabulary.js";
import { kmsError } from "./kms-error.js";

/** Which usage bits make sense for each kind of object; a mask outside them is refused at creation. */
function applicable(objectType: ObjectType, algorithm: CryptographicAlgorithm | undefined): readonly UsageName[] {
  switch (objectType) {
    case "SymmetricKey":
      return algorithm === "AES" ? ["Encrypt", "Decrypt", "WrapKey", "UnwrapKey", "Export", "DeriveKey"] : ["MACGenerate", "MACVerify", "Export", "DeriveKey"];
    case "PrivateKey":
      return algorithm === "RSA" ? ["Sign", "Decrypt", "UnwrapKey", "Export", "ContentCommitment", "CertificateSign", "CRLSign"] : ["Sign", "Export", "ContentCommitment", "CertificateSign", "CRLSign", "KeyAgreement"];
    case "PublicKey":
      return algorithm === "RSA" ? ["Verify", "Encrypt", "WrapKey", "Export"] : ["Verify", "Export", "KeyAgreement"];
    case "SecretData":
    case "OpaqueObject":
      return ["Export", "DeriveKey"];
  }
}

/** The usage a new object gets when the caller names none: what it is for. */
export function defaultUsageMask(objectType: ObjectType, algorithm: CryptographicAlgorithm | undefined): number {
  switch (objectType) {
    case "SymmetricKey":
      return algorithm === "AES" ? usageMask(["Encrypt", "Decrypt"]) : usageMask(["MACGenerate", "MACVerify"]);
    case "PrivateKey":
      return algorithm === "RSA" ? usageMask(["Sign", "Decrypt"]) : usageMask(["Sign"]);
    case "PublicKey":
      return algorithm === "RSA" ? usageMask(["Verify", "Encrypt"]) : usageMask(["Verify"]);
    case "SecretData":
    case "OpaqueObject":
      return 0;
  }
}

/** Refuses usage bits that cannot apply to this kind of object (KMIP Incompatible Cryptographic Usage Mask). */
export function assertUsageMask(mask: number, objectType: ObjectType, algorithm: CryptographicAlgorithm | undefined, field = "usageMask"): void {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0x3fff) throw kmsError("invalid_input", "Invalid Field", `${field}: not a KMIP usage mask`, field);
  const allowed = applicable(objectType, algorithm);
  const wrong = usageNames(mask).filter((name) => !allowed.includes(name));
  if (wrong.length > 0) {
    throw kmsError("invalid_input", "Incompatible Cryptographic Usage Mask", `${field}: ${wrong.join(", ")} cannot apply to a ${algorithm ?? ""} ${objectType} (allowed: ${allowed.join(", ")})`.replace("  ", " "), field);
  }
}

/** Refuses an operation the object's usage mask does not permit. */
export function assertUsage(mask: number, needed: UsageName, operation: string): void {
  if ((mask & USAGE[needed]) === 0) {
    throw kmsError("policy_violation", "Incompatible Cryptographic Usage Mask", `${operation} needs the ${needed} usage, which this object's Cryptographic Usage Mask does not grant`, "usageMask");
  }
}
