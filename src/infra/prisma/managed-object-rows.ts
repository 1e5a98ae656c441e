import type { CryptographicAlgorithm, LinkType, ObjectType, RevocationReasonCode, State } from "../../core/kms/kmip-vocabulary.js";
import type { ManagedObject } from "../../core/kms/managed-object.js";
import type { KeyMaterial, Prisma } from "./generated/sqlite/client.js";
import { handleFromRow } from "./key-material-repository.js";

/** What every read of a managed object includes: its sets, in a stable order. */
export const WITH_SETS = {
  names: { orderBy: { name: "asc" } },
  links: { orderBy: [{ linkType: "asc" }, { linkedUid: "asc" }] },
  attributes: { orderBy: { name: "asc" } },
} as const satisfies Prisma.ManagedObjectInclude;

/** A managed_objects row with its names, links and custom attributes. */
export type ManagedObjectRowWithSets = Prisma.ManagedObjectGetPayload<{ include: typeof WITH_SETS }>;

/** The id of the key_materials row holding an object's sealed key. */
export function keyMaterialIdOf(uid: string): string {
  return `mo-key:${uid}`;
}

/** Row (+ its key material row, if any) → domain. The handle is absent once the key was destroyed. */
export function managedObjectFromRow(row: ManagedObjectRowWithSets, keyMaterial: KeyMaterial | undefined): ManagedObject {
  const key = keyMaterial === undefined ? undefined : handleFromRow(keyMaterial);
  return {
    uid: row.uid,
    objectType: row.objectType as ObjectType,
    ...(row.algorithm === null ? {} : { algorithm: row.algorithm as CryptographicAlgorithm }),
    ...(row.length === null ? {} : { length: row.length }),
    ...(row.curve === null ? {} : { curve: row.curve as "P-256" | "P-384" }),
    usageMask: row.usageMask,
    state: row.state as State,
    names: row.names.map((n) => n.name),
    initialDate: row.initialDate,
    ...(row.activationDate === null ? {} : { activationDate: row.activationDate }),
    ...(row.deactivationDate === null ? {} : { deactivationDate: row.deactivationDate }),
    ...(row.destroyDate === null ? {} : { destroyDate: row.destroyDate }),
    ...(row.compromiseDate === null ? {} : { compromiseDate: row.compromiseDate }),
    ...(row.compromiseOccurrenceDate === null ? {} : { compromiseOccurrenceDate: row.compromiseOccurrenceDate }),
    ...(row.revocationReason === null
      ? {}
      : { revocationReason: { code: row.revocationReason as RevocationReasonCode, ...(row.revocationMessage === null ? {} : { message: row.revocationMessage }) } }),
    links: row.links.map((l) => ({ type: l.linkType as LinkType, uid: l.linkedUid })),
    sensitive: row.sensitive,
    extractable: row.extractable,
    customAttributes: Object.fromEntries(row.attributes.map((a) => [a.name, a.value])),
    lastChangeDate: row.lastChangeDate,
    ...(key === undefined ? {} : { key }),
    ...(row.publicKeySpki === null ? {} : { publicKeySpki: row.publicKeySpki }),
    ...(row.keyName === null || row.keyVersion === null ? {} : { version: { name: row.keyName, version: row.keyVersion } }),
    createdBy: row.createdBy,
  };
}

/** The columns Update replaces (identity, type, algorithm, initial date and version never change). */
export function mutableColumns(object: ManagedObject) {
  return {
    usageMask: object.usageMask,
    state: object.state,
    sensitive: object.sensitive,
    extractable: object.extractable,
    activationDate: object.activationDate ?? null,
    deactivationDate: object.deactivationDate ?? null,
    destroyDate: object.destroyDate ?? null,
    compromiseDate: object.compromiseDate ?? null,
    compromiseOccurrenceDate: object.compromiseOccurrenceDate ?? null,
    revocationReason: object.revocationReason?.code ?? null,
    revocationMessage: object.revocationReason?.message ?? null,
    lastChangeDate: object.lastChangeDate,
    publicKeySpki: object.publicKeySpki === undefined ? null : Buffer.from(object.publicKeySpki),
  } satisfies Prisma.ManagedObjectUpdateInput;
}

/** The sets of an object as rows (duplicates collapse: the tables key them as sets). */
export function setRows(object: ManagedObject) {
  const links = new Map(object.links.map((l) => [linkKey(l.type, l.uid), l]));
  return {
    names: [...new Set(object.names)].map((name) => ({ uid: object.uid, name })),
    links: [...links.values()].map((l) => ({ uid: object.uid, linkType: l.type, linkedUid: l.uid })),
    attributes: Object.entries(object.customAttributes).map(([name, value]) => ({ uid: object.uid, name, value })),
  };
}

/** Identity of a link inside its object's set. */
export function linkKey(linkType: string, linkedUid: string): string {
  return `${linkType}\u0000${linkedUid}`;
}
