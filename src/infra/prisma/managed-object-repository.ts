import type { State } from "../../core/kms/kmip-vocabulary.js";
import type { ManagedObject } from "../../core/kms/managed-object.js";
import type { KeyVersionUsage } from "../../core/kms/named-key.js";
import type { LocateQuery, ManagedObjectRepository } from "../../core/kms/ports.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { KeyMaterialId } from "../../core/shared/ids.js";
import type { Page } from "../../core/shared/page.js";
import type { KeyMaterial } from "./generated/sqlite/client.js";
import { PrismaKeyMaterialRepository } from "./key-material-repository.js";
import { locateUidsSql, OVERTAKEN_LOOKUP_MAX, overtakenLookupsSql } from "./managed-object-locate.js";
import { keyMaterialIdOf, linkKey, managedObjectFromRow, mutableColumns, setRows, WITH_SETS, type ManagedObjectRowWithSets } from "./managed-object-rows.js";
import type { DatabaseProvider, DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

/**
 * key_materials.publicKeySpki is NOT NULL (it was made for key pairs); a symmetric key or secret
 * has no public half, so its row stores an empty value.
 */
const NO_PUBLIC_KEY = new Uint8Array(0);

/**
 * KMIP managed objects in `managed_objects` with their names, links and custom attributes in
 * their own tables, and the sealed key in `key_materials` (`mo-key:<uid>`), where master-key
 * rotation finds it. Locate is keyset-paginated by uid (UUIDv7: creation order).
 */
export class PrismaManagedObjectRepository implements ManagedObjectRepository {
  constructor(
    private readonly db: DatabaseTransaction,
    private readonly provider: DatabaseProvider,
  ) {}

  async create(object: ManagedObject): Promise<void> {
    // uids are UUIDv7s the service makes, so in practice a conflict is the named-key version.
    const taken =
      object.version === undefined
        ? `managed object ${object.uid} already exists`
        : `version ${object.version.version} of named key ${object.version.name} (or managed object ${object.uid}) already exists`;
    const keyMaterialId = object.key === undefined ? null : keyMaterialIdOf(object.uid);
    await uniquely(
      () =>
        this.db.managedObject.create({
          data: {
            uid: object.uid,
            objectType: object.objectType,
            algorithm: object.algorithm ?? null,
            length: object.length ?? null,
            curve: object.curve ?? null,
            initialDate: object.initialDate,
            keyMaterialId,
            keyName: object.version?.name ?? null,
            keyVersion: object.version?.version ?? null,
            createdBy: object.createdBy,
            ...mutableColumns(object),
          },
        }),
      taken,
    );
    if (object.key !== undefined && keyMaterialId !== null) {
      const stored = { id: keyMaterialId as KeyMaterialId, handle: object.key, publicKeySpki: object.publicKeySpki ?? NO_PUBLIC_KEY };
      await uniquely(() => new PrismaKeyMaterialRepository(this.db, this.provider).create(stored, object.initialDate), `key material ${keyMaterialId} already exists`);
    }
    const sets = setRows(object);
    if (sets.names.length > 0) await this.db.managedObjectName.createMany({ data: sets.names });
    if (sets.links.length > 0) await this.db.managedObjectLink.createMany({ data: sets.links });
    if (sets.attributes.length > 0) await this.db.managedObjectAttribute.createMany({ data: sets.attributes });
  }

  /**
   * Without `stored`, the row is updated first: on PostgreSQL that takes its row lock, so two
   * concurrent updates of one object serialize and the second diffs its sets against what the first
   * committed. With `stored` (read by findForUpdate, under that lock) the sets are diffed against it.
   */
  async update(object: ManagedObject, stored?: ManagedObject): Promise<void> {
    const { count } = await this.db.managedObject.updateMany({ where: { uid: object.uid }, data: mutableColumns(object) });
    if (count === 0) throw new DomainError("not_found", `managed object ${object.uid} does not exist`);
    const current =
      stored === undefined
        ? await this.db.managedObject.findUniqueOrThrow({ where: { uid: object.uid }, select: { keyMaterialId: true, ...WITH_SETS } })
        : { ...setRows(stored), keyMaterialId: stored.key === undefined ? null : keyMaterialIdOf(stored.uid) };
    await this.replaceSets(object, current);
    if (object.key === undefined && current.keyMaterialId !== null) {
      // Destroy (KMIP §4.21): the key material goes, the metadata and the key_materials row stay.
      await this.db.keyMaterial.updateMany({
        where: { id: current.keyMaterialId, sealedRef: { not: null } },
        data: { sealedRef: null, masterKeyId: null, destroyedAt: object.destroyDate ?? object.lastChangeDate },
      });
    } else if (object.key !== undefined && current.keyMaterialId === null) {
      throw new DomainError("internal", `managed object ${object.uid} was created without key material; update cannot add it`);
    }
  }

  /** Writes only the difference between the stored sets and the object's. */
  private async replaceSets(object: ManagedObject, current: Pick<ManagedObjectRowWithSets, "names" | "links" | "attributes">): Promise<void> {
    const wanted = setRows(object);
    const uid = object.uid;

    const haveNames = new Set(current.names.map((n) => n.name));
    const wantNames = new Set(wanted.names.map((n) => n.name));
    const dropNames = [...haveNames].filter((name) => !wantNames.has(name));
    const addNames = wanted.names.filter((n) => !haveNames.has(n.name));
    if (dropNames.length > 0) await this.db.managedObjectName.deleteMany({ where: { uid, name: { in: dropNames } } });
    if (addNames.length > 0) await this.db.managedObjectName.createMany({ data: addNames });

    const haveLinks = new Set(current.links.map((l) => linkKey(l.linkType, l.linkedUid)));
    const wantLinks = new Set(wanted.links.map((l) => linkKey(l.linkType, l.linkedUid)));
    const dropLinks = current.links.filter((l) => !wantLinks.has(linkKey(l.linkType, l.linkedUid)));
    const addLinks = wanted.links.filter((l) => !haveLinks.has(linkKey(l.linkType, l.linkedUid)));
    if (dropLinks.length > 0) await this.db.managedObjectLink.deleteMany({ where: { uid, OR: dropLinks.map((l) => ({ linkType: l.linkType, linkedUid: l.linkedUid })) } });
    if (addLinks.length > 0) await this.db.managedObjectLink.createMany({ data: addLinks });

    const haveAttributes = new Map(current.attributes.map((a) => [a.name, a.value]));
    const wantAttributes = new Map(wanted.attributes.map((a) => [a.name, a.value]));
    const dropAttributes = [...haveAttributes].filter(([name, value]) => wantAttributes.get(name) !== value).map(([name]) => name);
    const addAttributes = wanted.attributes.filter((a) => haveAttributes.get(a.name) !== a.value);
    if (dropAttributes.length > 0) await this.db.managedObjectAttribute.deleteMany({ where: { uid, name: { in: dropAttributes } } });
    if (addAttributes.length > 0) await this.db.managedObjectAttribute.createMany({ data: addAttributes });
  }

  /**
   * PostgreSQL: the row lock first (SELECT … FOR UPDATE), then the read. SQLite needs no lock: one
   * writer at a time, and a transaction whose reads another connection's commit made stale cannot
   * write (SQLITE_BUSY_SNAPSHOT), so the unit of work reruns it.
   */
  async findForUpdate(uid: string): Promise<ManagedObject | undefined> {
    if (this.provider === "postgresql") await this.db.$queryRaw`SELECT 1 FROM "managed_objects" WHERE "uid" = ${uid} FOR UPDATE`;
    return this.findByUid(uid);
  }

  async findByUid(uid: string): Promise<ManagedObject | undefined> {
    const row = await this.db.managedObject.findUnique({ where: { uid }, include: WITH_SETS });
    return row === null ? undefined : (await this.withKeys([row]))[0];
  }

  async listLaggingState(now: Date, limit: number): Promise<readonly ManagedObject[]> {
    const rows = await this.db.managedObject.findMany({
      where: { OR: [{ state: "Pre-Active", activationDate: { lte: now } }, { state: "Active", deactivationDate: { lte: now } }] },
      orderBy: { uid: "asc" },
      take: limit,
      include: WITH_SETS,
    });
    return this.withKeys(rows);
  }

  async findVersion(name: string, version: number): Promise<ManagedObject | undefined> {
    const row = await this.db.managedObject.findUnique({ where: { keyName_keyVersion: { keyName: name, keyVersion: version } }, include: WITH_SETS });
    return row === null ? undefined : (await this.withKeys([row]))[0];
  }

  /** One query finds the page's uids through the indexes (managed-object-locate.ts), the next reads them. */
  async locate(query: LocateQuery): Promise<Page<ManagedObject>> {
    const overtaken = new Map<number, readonly string[]>();
    for (const lookup of overtakenLookupsSql(query)) {
      const rows = await this.db.$queryRaw<{ uid: string }[]>(lookup.sql);
      if (rows.length <= OVERTAKEN_LOOKUP_MAX) overtaken.set(lookup.branch, rows.map((row) => row.uid));
    }
    const found = await this.db.$queryRaw<{ uid: string }[]>(locateUidsSql(query, overtaken));
    const uids = found.slice(0, query.limit).map((row) => row.uid);
    if (uids.length === 0) return { items: [] };
    const rows = await this.db.managedObject.findMany({ where: { uid: { in: uids } }, orderBy: { uid: "asc" }, include: WITH_SETS });
    const items = await this.withKeys(rows);
    const last = uids.at(-1);
    return found.length > query.limit && last !== undefined ? { items, nextCursor: last } : { items };
  }

  async listVersionUsage(name: string): Promise<readonly KeyVersionUsage[]> {
    const rows = await this.db.managedObject.findMany({
      where: { keyName: name },
      orderBy: { keyVersion: "asc" },
      select: { uid: true, keyVersion: true, state: true, activationDate: true, deactivationDate: true, encryptCount: true, decryptCount: true, lastEncryptAt: true, lastDecryptAt: true },
    });
    return rows.flatMap((row) =>
      row.keyVersion === null
        ? []
        : [
            {
              version: row.keyVersion,
              uid: row.uid,
              state: row.state as State,
              ...(row.activationDate === null ? {} : { activationDate: row.activationDate }),
              ...(row.deactivationDate === null ? {} : { deactivationDate: row.deactivationDate }),
              encryptCount: Number(row.encryptCount),
              decryptCount: Number(row.decryptCount),
              ...(row.lastEncryptAt === null ? {} : { lastEncryptAt: row.lastEncryptAt }),
              ...(row.lastDecryptAt === null ? {} : { lastDecryptAt: row.lastDecryptAt }),
            },
          ],
    );
  }

  /**
   * Counters are incremented in SQL (`SET n = n + k`), so concurrent flushes from several replicas
   * add up exactly. The last-use dates only move forward: each is a conditional update (`WHERE
   * last IS NULL OR last < new`), which PostgreSQL re-checks on the locked row.
   */
  async addUsage(uid: string, usage: { encrypts: number; decrypts: number; lastEncryptAt?: Date; lastDecryptAt?: Date }): Promise<void> {
    const { count } = await this.db.managedObject.updateMany({
      where: { uid },
      data: { encryptCount: { increment: usage.encrypts }, decryptCount: { increment: usage.decrypts } },
    });
    if (count === 0) throw new DomainError("not_found", `managed object ${uid} does not exist`);
    if (usage.lastEncryptAt !== undefined) {
      const at = usage.lastEncryptAt;
      await this.db.managedObject.updateMany({ where: { uid, OR: [{ lastEncryptAt: null }, { lastEncryptAt: { lt: at } }] }, data: { lastEncryptAt: at } });
    }
    if (usage.lastDecryptAt !== undefined) {
      const at = usage.lastDecryptAt;
      await this.db.managedObject.updateMany({ where: { uid, OR: [{ lastDecryptAt: null }, { lastDecryptAt: { lt: at } }] }, data: { lastDecryptAt: at } });
    }
  }

  /** Domain objects for rows, with their key handles read in one query. */
  private async withKeys(rows: readonly ManagedObjectRowWithSets[]): Promise<ManagedObject[]> {
    const ids = rows.flatMap((row) => (row.keyMaterialId === null ? [] : [row.keyMaterialId]));
    const materials = ids.length === 0 ? [] : await this.db.keyMaterial.findMany({ where: { id: { in: ids } } });
    const byId = new Map<string, KeyMaterial>(materials.map((m) => [m.id, m]));
    return rows.map((row) => managedObjectFromRow(row, row.keyMaterialId === null ? undefined : byId.get(row.keyMaterialId)));
  }
}
