import { attributesOf, type AttributeChange, type ManagedObject } from "../../../core/kms/index.js";
import { changeValue, readAttributeStructure, readTaggedAttribute, type RequestAttribute } from "../attribute-requests.js";
import { coreAttributeName, encodeAttributeValues, isCustomName, kmipAttributeName, specByTag } from "../attribute-specs.js";
import { KmipError } from "../kmip-error.js";
import { V2_0, type Version } from "../protocol-version.js";
import { StructReader } from "../struct-reader.js";
import { ENUM } from "../ttlv/enumerations.js";
import { integer, ITEM_TYPE, structure, textString, type TtlvItem } from "../ttlv/item.js";
import { TAG } from "../ttlv/tags.js";
import type { OperationHandler, Runner } from "./operation.js";

// Add, Modify, Delete Attribute (KMIP 1.4 §4.14–4.16, 2.0 §6.1.2, .30, .13) and Set Attribute
// (2.0 §6.1.48), all one key-service ChangeAttribute. 1.x names an instance of a multi-instance
// attribute (Name) by Attribute Index; the key service by its value, so the index is looked up.

async function change(run: Runner, uid: string | undefined, changeRequest: AttributeChange): Promise<string> {
  const result = await run.execute({ operation: "ChangeAttribute", uid, change: changeRequest });
  return result.object.uid;
}

/** The value of instance `index` of a Name (the only multi-instance attribute kpki keeps), or undefined. */
function nameAt(object: ManagedObject, index: number): string {
  const name = object.names[index];
  if (name === undefined) throw new KmipError("AttributeInstanceNotFound", `the object has no Name with Attribute Index ${index}`);
  return name;
}

/** The 1.x response Attribute {Attribute Name, Attribute Index?, Attribute Value}. */
function attributeItem(name: string, index: number, value: TtlvItem): TtlvItem {
  return structure(TAG.Attribute, [textString(TAG.AttributeName, name), index === 0 ? undefined : integer(TAG.AttributeIndex, index), value]);
}

/** The single attribute of a 2.0 New Attribute / Current Attribute structure. */
function wrapped(payload: StructReader, tag: number, what: string, version: Version): RequestAttribute | undefined {
  const reader = payload.optionalStruct(tag, what);
  if (reader === undefined) return undefined;
  const [item, extra] = reader.rest();
  if (item === undefined || extra !== undefined) throw new KmipError("InvalidField", `${what} holds exactly one attribute`);
  return readTaggedAttribute(item, what, version);
}

export const ADD_ATTRIBUTE: OperationHandler = {
  code: ENUM.Operation.AddAttribute,
  name: "Add Attribute",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const attribute = version >= V2_0 ? wrapped(payload, TAG.NewAttribute, "New Attribute", version) : readAttributeStructure(payload.struct(TAG.Attribute, "Attribute"), version);
    payload.done();
    if (attribute === undefined) throw new KmipError("MissingData", "Add Attribute: New Attribute is required");
    const value = changeValue(attribute);
    return async (run) => {
      const changed = await change(run, uid, { action: "add", name: coreAttributeName(attribute.name), value });
      if (run.version >= V2_0) return [textString(TAG.UniqueIdentifier, changed)];
      const index = attribute.name === "Name" ? (await run.object(changed)).names.indexOf(value) : 0;
      return [textString(TAG.UniqueIdentifier, changed), attributeItem(attribute.name, Math.max(index, 0), attribute.value)];
    };
  },
};

export const MODIFY_ATTRIBUTE: OperationHandler = {
  code: ENUM.Operation.ModifyAttribute,
  name: "Modify Attribute",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const current = version >= V2_0 ? wrapped(payload, TAG.CurrentAttribute, "Current Attribute", version) : undefined;
    const attribute = version >= V2_0 ? wrapped(payload, TAG.NewAttribute, "New Attribute", version) : readAttributeStructure(payload.struct(TAG.Attribute, "Attribute"), version);
    payload.done();
    if (attribute === undefined) throw new KmipError("MissingData", "Modify Attribute: New Attribute is required");
    if (current !== undefined && current.name !== attribute.name) throw new KmipError("InvalidField", "Current Attribute and New Attribute name different attributes");
    const value = changeValue(attribute);
    return async (run) => {
      let currentValue: string | undefined = current === undefined ? undefined : changeValue(current);
      // 1.x: Attribute Index (default 0) picks the Name instance to replace.
      if (attribute.name === "Name" && run.version < V2_0) currentValue = nameAt(await run.object(uid), attribute.index ?? 0);
      const changed = await change(run, uid, { action: "modify", name: coreAttributeName(attribute.name), value, ...(currentValue === undefined ? {} : { current: currentValue }) });
      if (run.version >= V2_0) return [textString(TAG.UniqueIdentifier, changed)];
      return [textString(TAG.UniqueIdentifier, changed), attributeItem(attribute.name, attribute.index ?? 0, attribute.value)];
    };
  },
};

export const DELETE_ATTRIBUTE: OperationHandler = {
  code: ENUM.Operation.DeleteAttribute,
  name: "Delete Attribute",
  since: 100,
  undoable: false,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    let name: string;
    let index = 0;
    let value: string | undefined;
    if (version >= V2_0) {
      const current = wrapped(payload, TAG.CurrentAttribute, "Current Attribute", version);
      const reference = payload.optionalAny(TAG.AttributeReference);
      if (current !== undefined) {
        name = current.name;
        value = changeValue(current);
      } else if (reference?.type === ITEM_TYPE.Enumeration) {
        const found = specByTag(reference.value, version);
        if (found === undefined) throw new KmipError("UnsupportedAttribute", `Attribute Reference 0x${reference.value.toString(16)} is not an attribute`);
        name = found.name;
      } else if (reference !== undefined) {
        const vendor = StructReader.of(reference, "Attribute Reference");
        vendor.text(TAG.VendorIdentification);
        name = vendor.text(TAG.AttributeName);
        vendor.done();
      } else throw new KmipError("MissingData", "Delete Attribute: Current Attribute or Attribute Reference is required");
    } else {
      name = payload.text(TAG.AttributeName);
      index = payload.optionalInteger(TAG.AttributeIndex) ?? 0;
    }
    payload.done();
    return async (run) => {
      let deleted: TtlvItem | undefined;
      if (run.version < V2_0) {
        // 1.x answers with the attribute it deleted, so read it first.
        const object = await run.object(uid);
        if (name === "Name") value = nameAt(object, index);
        const coreName = coreAttributeName(name);
        const all = attributesOf(object, run.now());
        const current = Object.hasOwn(all, coreName) ? all[coreName] : undefined;
        const encoded = current === undefined ? [] : encodeAttributeValues(kmipAttributeName(coreName), current, TAG.AttributeValue, run.version);
        deleted = encoded[name === "Name" ? index : 0];
        if (deleted === undefined && (name === "Name" || isCustomName(name) || current !== undefined)) {
          throw new KmipError("AttributeNotFound", `the object has no ${name}${index === 0 ? "" : ` with Attribute Index ${index}`}`);
        }
      }
      const changed = await change(run, uid, { action: "delete", name: coreAttributeName(name), ...(value === undefined ? {} : { value }) });
      if (run.version >= V2_0 || deleted === undefined) return [textString(TAG.UniqueIdentifier, changed)];
      return [textString(TAG.UniqueIdentifier, changed), attributeItem(name, index, deleted)];
    };
  },
};

export const SET_ATTRIBUTE: OperationHandler = {
  code: ENUM.Operation.SetAttribute,
  name: "Set Attribute",
  since: V2_0,
  undoable: false,
  decode(payload, version) {
    const uid = payload.optionalText(TAG.UniqueIdentifier);
    const attribute = wrapped(payload, TAG.NewAttribute, "New Attribute", version);
    payload.done();
    if (attribute === undefined) throw new KmipError("MissingData", "Set Attribute: New Attribute is required");
    // 2.0 §6.1.48: Set replaces a single-valued attribute; Name may have several values.
    if (attribute.name === "Name") throw new KmipError("MultiValuedAttribute", "Set Attribute applies to single-valued attributes; use Add or Modify Attribute for Name");
    const value = changeValue(attribute);
    return async (run) => {
      const coreName = coreAttributeName(attribute.name);
      const present = Object.hasOwn(attributesOf(await run.object(uid), run.now()), coreName);
      const changed = await change(run, uid, present ? { action: "modify", name: coreName, value } : { action: "add", name: coreName, value });
      return [textString(TAG.UniqueIdentifier, changed)];
    };
  },
};

