import type { Clock } from "../shared/clock.js";
import type { UnitOfWork } from "../shared/unit-of-work.js";
import { kmsError } from "./kms-error.js";
import type { ManagedObject } from "./managed-object.js";
import type { KmsRepositories } from "./ports.js";

/** How long a looked-up object is reused: a state change on another replica takes effect within it. */
const TTL_MILLIS = 2_000;
const MAX_ENTRIES = 10_000;

/**
 * Recently used managed objects, so cryptographic operations (the KMS plugin's hot path) do not
 * read the database on every call. Changes made through this process invalidate their entry at once.
 */
export class ObjectCache {
  private readonly entries = new Map<string, { object: ManagedObject; until: number }>();

  constructor(
    private readonly uow: UnitOfWork<KmsRepositories>,
    private readonly clock: Clock,
  ) {}

  async get(uid: string): Promise<ManagedObject> {
    const now = this.clock.now().getTime();
    const cached = this.entries.get(uid);
    if (cached !== undefined && cached.until > now) return cached.object;
    const object = await this.uow.read((r) => r.managedObjects.findByUid(uid));
    if (object === undefined) throw kmsError("not_found", "Item Not Found", `object ${uid} does not exist`, "uid");
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(uid, { object, until: now + TTL_MILLIS });
    return object;
  }

  invalidate(uid: string): void {
    this.entries.delete(uid);
  }
}
