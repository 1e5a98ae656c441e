import { locateCriteria, readAttributeSet, readAttributeStructure } from "../attribute-requests.js";
import { invalidField, KmipError, notSupported } from "../kmip-error.js";
import { V1_3, V2_0, type Version } from "../protocol-version.js";
import type { StructReader } from "../struct-reader.js";
import { ENUM } from "../ttlv/enumerations.js";
import { integer, textString, type TtlvItem } from "../ttlv/item.js";
import { TAG } from "../ttlv/tags.js";
import { revocationReasonOf } from "../vocabulary.js";
import type { OperationHandler } from "./operation.js";

// Locate, Activate, Revoke, Destroy, Re-key and Re-key Key Pair (KMIP 1.4 §4.4, 4.9, 4.19–4.21,
// 4.24; 2.0 §6.1). An omitted Unique Identifier means the batch's ID Placeholder.

const uidResult = (uid: string): TtlvItem[] => [textString(TAG.UniqueIdentifier, uid)];

/** Most identifiers one Locate answers with when the client sets no Maximum Items. */
export const LOCATE_MAX_ITEMS = 1000;
/** Page size of the key service's Locate (PAGE_LIMIT_MAX). */
const PAGE = 500;

export const LOCATE: OperationHandler = {
  code: ENUM.Operation.Locate,
  name: "Locate",
  since: 100,
  undoable: true,
  decode(payload, version) {
    const maximumItems = payload.optionalInteger(TAG.MaximumItems);
    // Offset Items is a 1.3 field; PyKMIP sends it at any version, and it means one thing only.
    const offsetItems = payload.optionalInteger(TAG.OffsetItems);
    const storageStatusMask = payload.optionalInteger(TAG.StorageStatusMask);
    if (payload.has(TAG.ObjectGroupMember)) throw notSupported("kpki keeps no object groups (Object Group Member)");
    // 1.x: Attribute structures in the payload itself; 2.0: one Attributes structure.
    const attributes =
      version >= V2_0 ? readAttributeSet(payload, version, { v1: TAG.TemplateAttribute, v2: TAG.Attributes }) : payload.structs(TAG.Attribute, "Attribute").map((reader) => readAttributeStructure(reader, version));
    payload.done();
    if (maximumItems !== undefined && (maximumItems < 1 || maximumItems > LOCATE_MAX_ITEMS)) throw invalidField(`Maximum Items: 1–${LOCATE_MAX_ITEMS}`);
    if (offsetItems !== undefined && offsetItems < 0) throw invalidField("Offset Items must not be negative");
    const criteria = locateCriteria(attributes);
    // Storage Status Mask (1.4 §9.1.3.3.2): 1 on-line, 2 archival. Every kpki object is on-line.
    const onlineOnly = storageStatusMask === undefined || (storageStatusMask & 1) !== 0;
    const wanted = (offsetItems ?? 0) + (maximumItems ?? LOCATE_MAX_ITEMS);
    return async (run) => {
      const uids: string[] = [];
      let after: string | undefined;
      let exhausted = !onlineOnly;
      while (!exhausted && uids.length < wanted) {
        const result = await run.execute({ operation: "Locate", query: { ...criteria, limit: Math.min(PAGE, wanted - uids.length), ...(after === undefined ? {} : { after }) } });
        uids.push(...result.page.items.map((object) => object.uid));
        after = result.page.nextCursor;
        exhausted = after === undefined;
      }
      const chosen = uids.slice(offsetItems ?? 0, wanted);
      // Located Items (1.3+) is the total match count, known only when every match was read.
      const located = run.version >= V1_3 && exhausted ? [integer(TAG.LocatedItems, uids.length)] : [];
      return [...located, ...chosen.map((uid) => textString(TAG.UniqueIdentifier, uid))];
    };
  },
};

function simple(code: number, name: string, operation: "Activate" | "Destroy"): OperationHandler {
  return {
    code,
    name,
    since: 100,
    undoable: false,
    decode(payload) {
      const uid = payload.optionalText(TAG.UniqueIdentifier);
      payload.done();
      return async (run) => {
        const result = await run.execute({ operation, uid });
        return uidResult(result.object.uid);
      };
    },
  };
}

export const ACTIVATE = simple(ENUM.Operation.Activate, "Activate", "Activate");
export const DESTROY = simple(ENUM.Operation.Destroy, "Destroy", "Destroy");

export const REVOKE: OperationHandler = {
  code: ENUM.Operation.Revoke,
  name: "Revoke",
  since: 100,
  undoable: false,
  decode(payload) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const reasonReader = payload.struct(TAG.RevocationReason, "Revocation Reason");
    const code = revocationReasonOf(reasonReader.enumeration(TAG.RevocationReasonCode));
    const message = reasonReader.optionalText(TAG.RevocationMessage);
    reasonReader.done();
    if (message !== undefined && message.length > 1024) throw invalidField("Revocation Message: at most 1024 characters");
    const compromiseOccurrenceDate = payload.optionalDate(TAG.CompromiseOccurrenceDate);
    payload.done();
    return async (run) => {
      const result = await run.execute({ operation: "Revoke", uid, reason: { code, message, compromiseOccurrenceDate } });
      return uidResult(result.object.uid);
    };
  },
};

/** Re-key Offset: at most ten years, as REST's offsetSeconds. */
function offset(payload: StructReader): number | undefined {
  const seconds = payload.optionalInterval(TAG.Offset);
  if (seconds !== undefined && seconds > 315_360_000) throw invalidField("Offset: at most 315360000 seconds (ten years)");
  return seconds;
}

/**
 * Re-key takes the old key's attributes; new ones in the request are not offered. An empty
 * template is accepted in either form at any version (PyKMIP sends a 1.x Template-Attribute in
 * its 2.0 Re-key).
 */
function refuseTemplates(payload: StructReader, version: Version, tags: readonly { v1: number; v2: number }[]): void {
  for (const pair of tags) {
    for (const tag of [pair.v1, pair.v2]) {
      const template = payload.optionalStruct(tag);
      if (template !== undefined && template.item.value.length > 0) throw notSupported("Re-key keeps the old key's attributes; new attributes in the request are not supported");
    }
  }
  if (version >= V2_0 && payload.has(TAG.ProtectionStorageMasks)) throw notSupported("Protection Storage Masks are not supported");
}

export const REKEY: OperationHandler = {
  code: ENUM.Operation.Rekey,
  name: "Re-key",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const offsetSeconds = offset(payload);
    refuseTemplates(payload, version, [{ v1: TAG.TemplateAttribute, v2: TAG.Attributes }]);
    payload.done();
    return async (run) => {
      const result = await run.execute({ operation: "ReKey", uid, offsetSeconds });
      return uidResult(result.object.uid);
    };
  },
};

export const REKEY_KEY_PAIR: OperationHandler = {
  code: ENUM.Operation.RekeyKeyPair,
  name: "Re-key Key Pair",
  since: 101,
  undoable: false,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.PrivateKeyUniqueIdentifier);
    const offsetSeconds = offset(payload);
    refuseTemplates(payload, version, [
      { v1: TAG.CommonTemplateAttribute, v2: TAG.CommonAttributes },
      { v1: TAG.PrivateKeyTemplateAttribute, v2: TAG.PrivateKeyAttributes },
      { v1: TAG.PublicKeyTemplateAttribute, v2: TAG.PublicKeyAttributes },
    ]);
    payload.done();
    if (uid === "") throw new KmipError("InvalidField", "Private Key Unique Identifier is empty");
    return async (run) => {
      const result = await run.execute({ operation: "ReKeyKeyPair", uid, offsetSeconds });
      return [textString(TAG.PrivateKeyUniqueIdentifier, result.privateKey.uid), textString(TAG.PublicKeyUniqueIdentifier, result.publicKey.uid)];
    };
  },
};
