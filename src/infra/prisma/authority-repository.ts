import type { KeyAlgorithm } from "../../core/crypto/algorithms.js";
import { DomainError } from "../../core/shared/domain-error.js";
import type { CaId, KeyMaterialId } from "../../core/shared/ids.js";
import type { AuthorityRepository, CertificateAuthority, CaOrigin, CaStatus } from "../../core/pki/index.js";
import type { CertificateAuthority as CaRow, KeyMaterial } from "./generated/sqlite/client.js";
import { handleFromRow, PrismaKeyMaterialRepository } from "./key-material-repository.js";
import type { DatabaseProvider, DatabaseTransaction } from "./prisma-client.js";
import { uniquely } from "./prisma-errors.js";

type CaRowWithKey = CaRow & { keyMaterial: KeyMaterial | null };

/** DER certificates stored one after the other (each is a self-delimiting SEQUENCE). */
function splitDer(bytes: Uint8Array): Uint8Array[] {
  const items: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const first = bytes[offset + 1] ?? 0;
    let length = first;
    let header = 2;
    if (first & 0x80) {
      const count = first & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (bytes[offset + 2 + i] ?? 0);
      header += count;
    }
    items.push(bytes.subarray(offset, offset + header + length));
    offset += header + length;
  }
  return items;
}

function toDomain(row: CaRowWithKey): CertificateAuthority {
  const key = row.keyMaterial === null ? undefined : handleFromRow(row.keyMaterial);
  if (row.keyMaterial === null) throw new DomainError("internal", `CA ${row.name} has no key material row`);
  return {
    id: row.id as CaId,
    name: row.name,
    ...(row.parentId === null ? {} : { parentId: row.parentId as CaId }),
    origin: row.origin as CaOrigin,
    status: row.status as CaStatus,
    internal: row.internal,
    keyAlgorithm: row.keyAlgorithm as KeyAlgorithm,
    ...(key === undefined ? {} : { key }),
    publicKeySpki: row.keyMaterial.publicKeySpki,
    subject: row.subject,
    subjectDer: row.subjectDer,
    subjectKeyId: row.subjectKeyId,
    ...(row.certificateDer === null ? {} : { certificateDer: row.certificateDer }),
    ...(row.csrDer === null ? {} : { csrDer: row.csrDer }),
    ...(row.externalChain === null ? {} : { externalChainDer: splitDer(row.externalChain) }),
    ...(row.serialHex === null ? {} : { serialHex: row.serialHex }),
    ...(row.pathLength === null ? {} : { pathLength: row.pathLength }),
    ...(row.notBefore === null ? {} : { notBefore: row.notBefore }),
    ...(row.notAfter === null ? {} : { notAfter: row.notAfter }),
    ...(row.clusterId === null ? {} : { clusterId: row.clusterId }),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The columns of a CA that may change after creation. */
function mutableColumns(ca: CertificateAuthority) {
  return {
    status: ca.status,
    subject: ca.subject,
    subjectDer: Buffer.from(ca.subjectDer),
    subjectKeyId: Buffer.from(ca.subjectKeyId),
    certificateDer: ca.certificateDer === undefined ? null : Buffer.from(ca.certificateDer),
    externalChain: ca.externalChainDer === undefined ? null : Buffer.concat(ca.externalChainDer.map((der) => Buffer.from(der))),
    serialHex: ca.serialHex ?? null,
    pathLength: ca.pathLength ?? null,
    notBefore: ca.notBefore ?? null,
    notAfter: ca.notAfter ?? null,
    updatedAt: ca.updatedAt,
  };
}

/** CAs in `certificate_authorities`, each with its key in `key_materials`. */
export class PrismaAuthorityRepository implements AuthorityRepository {
  constructor(
    private readonly db: DatabaseTransaction,
    private readonly provider: DatabaseProvider,
  ) {}

  async create(ca: CertificateAuthority): Promise<void> {
    if (ca.key === undefined) throw new DomainError("internal", "a new CA needs its key");
    const keyMaterialId = `ca-key:${ca.id}` as KeyMaterialId;
    await new PrismaKeyMaterialRepository(this.db, this.provider).create({ id: keyMaterialId, handle: ca.key, publicKeySpki: ca.publicKeySpki }, ca.createdAt);
    await uniquely(
      () =>
        this.db.certificateAuthority.create({
          data: {
            id: ca.id,
            name: ca.name,
            parentId: ca.parentId ?? null,
            origin: ca.origin,
            internal: ca.internal,
            keyMaterialId,
            keyAlgorithm: ca.keyAlgorithm,
            clusterId: ca.clusterId ?? null,
            csrDer: ca.csrDer === undefined ? null : Buffer.from(ca.csrDer),
            createdAt: ca.createdAt,
            ...mutableColumns(ca),
          },
        }),
      `CA ${ca.name} already exists`,
    );
  }

  async update(ca: CertificateAuthority): Promise<void> {
    await this.db.certificateAuthority.update({ where: { id: ca.id }, data: mutableColumns(ca) });
  }

  async findById(id: CaId): Promise<CertificateAuthority | undefined> {
    const row = await this.db.certificateAuthority.findUnique({ where: { id }, include: { keyMaterial: true } });
    return row === null ? undefined : toDomain(row);
  }

  async findByName(name: string): Promise<CertificateAuthority | undefined> {
    const row = await this.db.certificateAuthority.findUnique({ where: { name }, include: { keyMaterial: true } });
    return row === null ? undefined : toDomain(row);
  }

  async statuses(ids: readonly CaId[]): Promise<ReadonlyMap<CaId, CaStatus>> {
    const rows = await this.db.certificateAuthority.findMany({ where: { id: { in: [...ids] } }, select: { id: true, status: true } });
    return new Map(rows.map((row) => [row.id as CaId, row.status as CaStatus]));
  }

  async list(): Promise<readonly CertificateAuthority[]> {
    const rows = await this.db.certificateAuthority.findMany({ orderBy: { createdAt: "asc" }, include: { keyMaterial: true } });
    return rows.map(toDomain);
  }
}
