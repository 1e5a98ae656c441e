import type { Version } from "../protocol-version.js";
import { ADD_ATTRIBUTE, DELETE_ATTRIBUTE, MODIFY_ATTRIBUTE, SET_ATTRIBUTE } from "./attributes.js";
import { DECRYPT, ENCRYPT, MAC, MAC_VERIFY, RNG_RETRIEVE, SIGN, SIGNATURE_VERIFY } from "./crypto.js";
import { ACTIVATE, DESTROY, LOCATE, REKEY, REKEY_KEY_PAIR, REVOKE } from "./lifecycle.js";
import { CREATE, CREATE_KEY_PAIR, REGISTER } from "./objects.js";
import type { OperationHandler } from "./operation.js";
import { DISCOVER_VERSIONS, queryHandler, type ServerIdentity } from "./protocol.js";
import { GET, GET_ATTRIBUTE_LIST, GET_ATTRIBUTES } from "./reads.js";

export type { OperationHandler, Plan, ResultOf, Runner } from "./operation.js";
export type { ServerIdentity } from "./protocol.js";

/** The operations kpki serves over KMIP, by Operation value; any other answers Operation Not Supported. */
export function operationHandlers(identity: ServerIdentity): ReadonlyMap<number, OperationHandler> {
  const handlers: OperationHandler[] = [
    CREATE,
    CREATE_KEY_PAIR,
    REGISTER,
    REKEY,
    LOCATE,
    GET,
    GET_ATTRIBUTES,
    GET_ATTRIBUTE_LIST,
    ADD_ATTRIBUTE,
    MODIFY_ATTRIBUTE,
    DELETE_ATTRIBUTE,
    ACTIVATE,
    REVOKE,
    DESTROY,
    REKEY_KEY_PAIR,
    DISCOVER_VERSIONS,
    ENCRYPT,
    DECRYPT,
    SIGN,
    SIGNATURE_VERIFY,
    MAC,
    MAC_VERIFY,
    RNG_RETRIEVE,
    SET_ATTRIBUTE,
  ];
  const operationsIn = (version: Version) => [...handlers.filter((handler) => handler.since <= version).map((handler) => handler.code), query.code].sort((a, b) => a - b);
  const query = queryHandler(operationsIn, identity);
  return new Map([...handlers, query].map((handler) => [handler.code, handler]));
}
