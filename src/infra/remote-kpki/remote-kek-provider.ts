import {
  assertKeyIdOfVersion,
  decodeWrappedKey,
  evaluateKekStatus,
  kekAnnotations,
  kekAssociatedData,
  kekKeyId,
  parseKekKeyId,
  STATES,
  unknownKeyId,
  type KekEncryption,
  type KekProvider,
  type KekStatus,
  type State,
} from "../../core/kms/index.js";
import { DomainError } from "../../core/shared/domain-error.js";
import { KpkiHttpClient, type KpkiServerOptions } from "./kpki-http-client.js";

/** Options of the remote KEK. */
export interface RemoteKekOptions extends KpkiServerOptions {
  /** The named key whose versions are the KEKs. */
  readonly keyName: string;
}

/** One version of a named key as `GET /v1/keys/{key}` lists it (state only if the server shows it). */
interface VersionJson {
  readonly version: number;
  readonly uid: string;
  readonly state?: State;
}

/**
 * The KEK on a remote kpki, over its REST API (`/v1/keys/{key}` and its encrypt/decrypt): the
 * same wraps, key_ids and annotations as the in-process KEK, so either mode reads what the other
 * wrote. Version → uid pairs never change, so they are remembered; an unknown version refreshes
 * them (one refresh in flight at a time). Needs a token that may getNamedKey, encryptWithNamedKey and
 * decryptWithNamedKey on the key: role kms-plugin scoped to it (or operator).
 */
export class RemoteKekProvider implements KekProvider {
  private readonly client: KpkiHttpClient;
  private readonly keyPath: string;
  private readonly uids = new Map<number, string>();
  private refreshing: Promise<{ currentVersion: number; versions: readonly VersionJson[] }> | undefined;

  constructor(private readonly options: RemoteKekOptions) {
    this.client = new KpkiHttpClient(options);
    this.keyPath = `/v1/keys/${encodeURIComponent(options.keyName)}`;
  }

  /** One `GET /v1/keys/{key}`, plus `GET /v1/objects/{uid}` when the listing carries no state. */
  async status(): Promise<KekStatus> {
    const key = await this.refresh();
    const current = key.versions.find((entry) => entry.version === key.currentVersion);
    if (current === undefined) return { healthy: false, reason: `kpki lists no version ${key.currentVersion} of named key ${this.options.keyName}` };
    const state = current.state ?? stateOf(await this.client.json("GET", `/v1/objects/${encodeURIComponent(current.uid)}`));
    return evaluateKekStatus({ name: this.options.keyName, version: current.version, uid: current.uid, state });
  }

  async encrypt(seed: Uint8Array, requestId?: string): Promise<KekEncryption> {
    const annotations = kekAnnotations();
    const body = { plaintext: base64(seed), context: base64(kekAssociatedData(annotations)) };
    const answer = await this.client.json("POST", `${this.keyPath}/encrypt`, body, requestId);
    const text = stringField(answer, "ciphertext");
    const ciphertext = Buffer.from(text, "utf8");
    const { name, version } = decodeWrappedKey(ciphertext);
    if (name !== this.options.keyName) throw new DomainError("internal", `kpki encrypted with named key ${name}, not ${this.options.keyName}`);
    const uid = await this.uidOf(version);
    if (uid === undefined) throw new DomainError("internal", `kpki encrypted with version ${version} of ${name}, which its key listing does not show`);
    return { ciphertext, keyId: kekKeyId(name, version, uid), annotations };
  }

  async decrypt(ciphertext: Uint8Array, keyId: string, annotations: ReadonlyMap<string, Uint8Array>, requestId?: string): Promise<Uint8Array> {
    const parts = parseKekKeyId(keyId);
    if (parts?.name !== this.options.keyName) throw unknownKeyId(keyId, `this plugin serves named key ${this.options.keyName}`);
    const uid = await this.uidOf(parts.version);
    if (uid === undefined) throw unknownKeyId(keyId, `named key ${parts.name} has no version ${parts.version}`);
    assertKeyIdOfVersion(keyId, parts, uid);
    const { text } = decodeWrappedKey(ciphertext);
    const answer = await this.client.json("POST", `${this.keyPath}/decrypt`, { ciphertext: text, context: base64(kekAssociatedData(annotations)) }, requestId);
    return Buffer.from(stringField(answer, "plaintext"), "base64");
  }

  /** Closes the kept-alive HTTPS connections. */
  close(): void {
    this.client.close();
  }

  private async uidOf(version: number): Promise<string | undefined> {
    const known = this.uids.get(version);
    if (known !== undefined) return known;
    const key = await this.refresh();
    return key.versions.find((entry) => entry.version === version)?.uid;
  }

  /** Reads the key and its versions (sharing a read already in flight) and remembers the uids. */
  private refresh(): Promise<{ currentVersion: number; versions: readonly VersionJson[] }> {
    this.refreshing ??= this.client
      .json("GET", this.keyPath)
      .then((answer) => {
        const key = namedKeyOf(answer);
        for (const entry of key.versions) this.uids.set(entry.version, entry.uid);
        return key;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(what: string): DomainError {
  return new DomainError("internal", `kpki answered an unexpected ${what}`);
}

function stringField(answer: unknown, field: string): string {
  const value = isObject(answer) ? answer[field] : undefined;
  if (typeof value !== "string") throw malformed(`body (no ${field})`);
  return value;
}

function stateOf(answer: unknown): State {
  const state = isObject(answer) ? answer.state : undefined;
  if (typeof state !== "string" || !(STATES as readonly string[]).includes(state)) throw malformed("object (no state)");
  return state as State;
}

function namedKeyOf(answer: unknown): { currentVersion: number; versions: VersionJson[] } {
  if (!isObject(answer) || typeof answer.currentVersion !== "number" || !Array.isArray(answer.versions)) throw malformed("named key");
  const versions = answer.versions.map((entry: unknown): VersionJson => {
    if (!isObject(entry) || typeof entry.version !== "number" || typeof entry.uid !== "string") throw malformed("key version");
    const state = typeof entry.state === "string" && (STATES as readonly string[]).includes(entry.state) ? (entry.state as State) : undefined;
    return { version: entry.version, uid: entry.uid, ...(state === undefined ? {} : { state }) };
  });
  return { currentVersion: answer.currentVersion, versions };
}
