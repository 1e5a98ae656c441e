import { invalidField } from "../kmip-error.js";
import { majorOf, minorOf, SUPPORTED_VERSIONS, V1_1, version as versionOf, type Version } from "../protocol-version.js";
import { ENUM } from "../ttlv/enumerations.js";
import { enumeration, integer, structure, textString, type TtlvItem } from "../ttlv/item.js";
import { TAG } from "../ttlv/tags.js";
import { OBJECT_TYPE } from "../vocabulary.js";
import type { OperationHandler } from "./operation.js";

// The protocol's own operations: Discover Versions (KMIP 1.4 §4.26) and Query (§4.25). They touch
// no managed object; access is the protocol decision of the runner.

/** What Query reports about the server (Server Information is vendor-defined in 1.x; 2.0 §7.2 names these fields). */
export interface ServerIdentity {
  readonly vendor: string;
  readonly product: string;
  readonly version: string;
}

const protocolVersion = (v: Version): TtlvItem => structure(TAG.ProtocolVersion, [integer(TAG.ProtocolVersionMajor, majorOf(v)), integer(TAG.ProtocolVersionMinor, minorOf(v))]);

export const DISCOVER_VERSIONS: OperationHandler = {
  code: ENUM.Operation.DiscoverVersions,
  name: "Discover Versions",
  since: V1_1,
  undoable: true,
  decode(payload) {
    const offered = payload.structs(TAG.ProtocolVersion, "Protocol Version").map((reader) => {
      const major = reader.integer(TAG.ProtocolVersionMajor);
      const minor = reader.integer(TAG.ProtocolVersionMinor);
      reader.done();
      if (major < 0 || minor < 0 || minor > 99) throw invalidField(`protocol version ${major}.${minor} is not a KMIP version`);
      return versionOf(major, minor);
    });
    payload.done();
    return async (run) => {
      run.authorizeProtocolOperation();
      // The server's preference order, limited to what the client offered (none offered: all).
      const answer = offered.length === 0 ? SUPPORTED_VERSIONS : SUPPORTED_VERSIONS.filter((v) => offered.includes(v));
      return answer.map(protocolVersion);
    };
  },
};

const Q = ENUM.QueryFunction;

/** Query, answering Operations (those `operationsIn` the request's version), Objects and Server Information. */
export function queryHandler(operationsIn: (version: Version) => readonly number[], identity: ServerIdentity): OperationHandler {
  return {
    code: ENUM.Operation.Query,
    name: "Query",
    since: 100,
    undoable: true,
    decode(payload) {
      const functions = new Set(payload.enumerations(TAG.QueryFunction));
      payload.done();
      return async (run) => {
        run.authorizeProtocolOperation();
        // Functions kpki has nothing to report for (extensions, attestation, RNGs, profiles…) add nothing (1.4 §4.25).
        return [
          functions.has(Q.QueryOperations) ? operationsIn(run.version).map((code) => enumeration(TAG.Operation, code)) : [],
          functions.has(Q.QueryObjects) ? Object.values(OBJECT_TYPE).map((code) => enumeration(TAG.ObjectType, code)) : [],
          functions.has(Q.QueryServerInformation)
            ? [
                textString(TAG.VendorIdentification, identity.vendor),
                structure(TAG.ServerInformation, [textString(TAG.ServerName, identity.product), textString(TAG.ServerVersion, identity.version)]),
              ]
            : [],
        ].flat();
      };
    },
  };
}
