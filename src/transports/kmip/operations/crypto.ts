import { cipherMode, macAlgorithm, readCryptoParameters, signatureAlgorithm } from "../crypto-parameters.js";
import { KmipError, notSupported } from "../kmip-error.js";
import { V1_2, V1_3, V1_4, type Version } from "../protocol-version.js";
import type { StructReader } from "../struct-reader.js";
import { ENUM } from "../ttlv/enumerations.js";
import { byteString, enumeration, textString } from "../ttlv/item.js";
import { TAG } from "../ttlv/tags.js";
import type { OperationHandler } from "./operation.js";

// Encrypt, Decrypt, Sign, Signature Verify, MAC, MAC Verify and RNG Retrieve (KMIP 1.4 §4.29–4.35,
// 2.0 §6.1): single-shot operations on the key service's KeyOperationsService (through the
// dispatcher), which checks type, usage mask and state.

/** Streaming (1.3 Correlation Value, Init/Final Indicator) is refused; a one-shot Init+Final is fine. */
function refuseStreaming(payload: StructReader, version: Version): void {
  if (version < V1_3) return;
  const correlation = payload.optionalBytes(TAG.CorrelationValue);
  const init = payload.optionalBoolean(TAG.InitIndicator);
  const final = payload.optionalBoolean(TAG.FinalIndicator);
  if (correlation !== undefined || init === false || final === false) throw notSupported("multi-part (streaming) operations are not supported; send all data in one request");
}

const validity = (valid: boolean) => enumeration(TAG.ValidityIndicator, valid ? ENUM.ValidityIndicator.Valid : ENUM.ValidityIndicator.Invalid);

export const ENCRYPT: OperationHandler = {
  code: ENUM.Operation.Encrypt,
  name: "Encrypt",
  since: V1_2,
  undoable: true,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const params = readCryptoParameters(payload);
    const data = payload.bytes(TAG.Data);
    const iv = payload.optionalBytes(TAG.IvCounterNonce);
    refuseStreaming(payload, version);
    const aad = version >= V1_4 ? payload.optionalBytes(TAG.AuthenticatedEncryptionAdditionalData) : undefined;
    payload.done();
    const { mode, tagLengthBytes } = cipherMode(params);
    if (params?.randomIv === true && iv !== undefined) throw new KmipError("InvalidField", "Random IV asks the server for the IV, but the request gives one");
    if (mode === "AES-GCM" && version < V1_4) throw notSupported("AES-GCM needs KMIP 1.4 or later, where the Authenticated Encryption Tag exists");
    return async (run) => {
      const result = await run.execute({ operation: "Encrypt", request: { uid, plaintext: data, mode, iv, aad, tagLengthBytes } });
      const { ciphertext, tag } = result.result;
      // The key's default mode may be GCM; without 1.4's tag field the ciphertext would be useless.
      if (tag !== undefined && run.version < V1_4) throw notSupported("this key's default mode is AES-GCM, which needs KMIP 1.4; name Block Cipher Mode CBC or speak KMIP 1.4");
      return [
        textString(TAG.UniqueIdentifier, result.uid),
        byteString(TAG.Data, ciphertext),
        // The IV is returned when the server chose it (1.4 §4.29).
        iv === undefined && result.result.iv !== undefined ? byteString(TAG.IvCounterNonce, result.result.iv) : undefined,
        tag === undefined ? undefined : byteString(TAG.AuthenticatedEncryptionTag, tag),
      ].filter((item) => item !== undefined);
    };
  },
};

export const DECRYPT: OperationHandler = {
  code: ENUM.Operation.Decrypt,
  name: "Decrypt",
  since: V1_2,
  undoable: true,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const params = readCryptoParameters(payload);
    const data = payload.bytes(TAG.Data);
    const iv = payload.optionalBytes(TAG.IvCounterNonce);
    refuseStreaming(payload, version);
    const aad = version >= V1_4 ? payload.optionalBytes(TAG.AuthenticatedEncryptionAdditionalData) : undefined;
    const tag = version >= V1_4 ? payload.optionalBytes(TAG.AuthenticatedEncryptionTag) : undefined;
    payload.done();
    const { mode, tagLengthBytes } = cipherMode(params);
    if (mode === "AES-GCM" && version < V1_4) throw notSupported("AES-GCM needs KMIP 1.4 or later, where the Authenticated Encryption Tag exists");
    return async (run) => {
      const result = await run.execute({ operation: "Decrypt", request: { uid, ciphertext: data, mode, iv, aad, tag, tagLengthBytes } });
      return [textString(TAG.UniqueIdentifier, result.uid), byteString(TAG.Data, result.plaintext)];
    };
  },
};

export const SIGN: OperationHandler = {
  code: ENUM.Operation.Sign,
  name: "Sign",
  since: V1_2,
  undoable: true,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const params = readCryptoParameters(payload);
    if (version >= V1_4 && payload.has(TAG.DigestedData)) throw notSupported("signing a pre-computed digest (Digested Data) is not supported; send the Data");
    const data = payload.bytes(TAG.Data);
    refuseStreaming(payload, version);
    payload.done();
    const algorithm = signatureAlgorithm(params);
    return async (run) => {
      const result = await run.execute({ operation: "Sign", uid, data, algorithm });
      return [textString(TAG.UniqueIdentifier, result.uid), byteString(TAG.SignatureData, result.signature)];
    };
  },
};

export const SIGNATURE_VERIFY: OperationHandler = {
  code: ENUM.Operation.SignatureVerify,
  name: "Signature Verify",
  since: V1_2,
  undoable: true,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const params = readCryptoParameters(payload);
    if (version >= V1_4 && payload.has(TAG.DigestedData)) throw notSupported("verifying over a pre-computed digest (Digested Data) is not supported; send the Data");
    const data = payload.bytes(TAG.Data);
    const signature = payload.bytes(TAG.SignatureData);
    refuseStreaming(payload, version);
    payload.done();
    const algorithm = signatureAlgorithm(params);
    return async (run) => {
      const result = await run.execute({ operation: "SignatureVerify", uid, data, signature, algorithm });
      return [textString(TAG.UniqueIdentifier, result.uid), validity(result.valid)];
    };
  },
};

/** MAC and MAC Verify: a named algorithm must be the key's (an HMAC-SHA512 asked of an HMAC-SHA256 key is refused). */
function macHandler(code: number, name: string, verify: boolean): OperationHandler {
  return {
    code,
    name,
    since: V1_2,
    undoable: true,
    decode(payload, version) {
      const uid = payload.optionalText(TAG.UniqueIdentifier);
      const algorithm = macAlgorithm(readCryptoParameters(payload));
      const data = payload.bytes(TAG.Data);
      const mac = verify ? payload.bytes(TAG.MacData) : undefined;
      refuseStreaming(payload, version);
      payload.done();
      return async (run) => {
        if (algorithm !== undefined) {
          const key = await run.object(uid);
          if (key.algorithm !== algorithm) throw new KmipError("BadCryptographicParameters", `the key is ${key.algorithm ?? "not an HMAC key"}, not ${algorithm}`);
        }
        if (mac !== undefined) {
          const result = await run.execute({ operation: "MACVerify", uid, data, mac });
          return [textString(TAG.UniqueIdentifier, result.uid), validity(result.valid)];
        }
        const result = await run.execute({ operation: "MAC", uid, data });
        return [textString(TAG.UniqueIdentifier, result.uid), byteString(TAG.MacData, result.mac)];
      };
    },
  };
}

export const MAC = macHandler(ENUM.Operation.Mac, "MAC", false);
export const MAC_VERIFY = macHandler(ENUM.Operation.MacVerify, "MAC Verify", true);

export const RNG_RETRIEVE: OperationHandler = {
  code: ENUM.Operation.RngRetrieve,
  name: "RNG Retrieve",
  since: V1_2,
  undoable: true,
  decode(payload) {
    const length = payload.integer(TAG.DataLength);
    payload.done();
    return async (run) => {
      const result = await run.execute({ operation: "RNGRetrieve", length });
      return [byteString(TAG.Data, result.data)];
    };
  },
};
