import { isDomainError } from "../shared/domain-error.js";
import type { RequestContext } from "../shared/request-context.js";
import {
  assertKeyIdOfVersion,
  decodeWrappedKey,
  evaluateKekStatus,
  kekAnnotations,
  kekAssociatedData,
  kekKeyId,
  parseKekKeyId,
  unknownKeyId,
  type KekEncryption,
  type KekProvider,
  type KekStatus,
} from "./kek-service.js";
import type { NamedKeyService } from "./named-key-service.js";

/**
 * The KEK in this process, over NamedKeyService and the database (single-node setups): the seed is
 * wrapped with the named key's current version, its annotations authenticated as the context.
 */
export class InProcessKekProvider implements KekProvider {
  constructor(
    private readonly deps: {
      readonly namedKeys: NamedKeyService;
      readonly keyName: string;
      /** Who the plugin acts as in audit records (e.g. `kms-plugin:<key>`). */
      readonly context: RequestContext;
    },
  ) {}

  async status(): Promise<KekStatus> {
    const current = await this.deps.namedKeys.currentVersion(this.deps.keyName);
    return evaluateKekStatus({ name: this.deps.keyName, ...current });
  }

  async encrypt(seed: Uint8Array, requestId?: string): Promise<KekEncryption> {
    const annotations = kekAnnotations();
    const text = await this.deps.namedKeys.encrypt(this.context(requestId), this.deps.keyName, seed, kekAssociatedData(annotations));
    // The key_id is the version that actually encrypted (read back from the ciphertext), so a
    // rotation between two calls can never pair a ciphertext with another version's key_id.
    const { version } = decodeWrappedKey(Buffer.from(text, "utf8"));
    const uid = await this.deps.namedKeys.uidOfVersion(this.deps.keyName, version);
    return { ciphertext: Buffer.from(text, "utf8"), keyId: kekKeyId(this.deps.keyName, version, uid), annotations };
  }

  async decrypt(ciphertext: Uint8Array, keyId: string, annotations: ReadonlyMap<string, Uint8Array>, requestId?: string): Promise<Uint8Array> {
    const parts = parseKekKeyId(keyId);
    if (parts?.name !== this.deps.keyName) throw unknownKeyId(keyId, `this plugin serves named key ${this.deps.keyName}`);
    const uid = await this.deps.namedKeys.uidOfVersion(parts.name, parts.version).catch((error: unknown) => {
      throw isDomainError(error) && error.code === "not_found" ? unknownKeyId(keyId, error.message) : error;
    });
    assertKeyIdOfVersion(keyId, parts, uid);
    const { text } = decodeWrappedKey(ciphertext);
    return this.deps.namedKeys.decrypt(this.context(requestId), text, kekAssociatedData(annotations));
  }

  private context(requestId: string | undefined): RequestContext {
    return requestId === undefined || requestId === "" ? this.deps.context : { ...this.deps.context, requestId };
  }
}
