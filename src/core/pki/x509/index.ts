// Public surface of the X.509 toolkit: a strict DER codec and the PKIX objects built on it.

export { readDer, readNested, type DerNode, type TagClass } from "./der/der-reader.js";
export * from "./der/der-writer.js";
export * from "./oids.js";
export * from "./pem.js";
export * from "./name.js";
export * from "./general-name.js";
export * from "./ip-address.js";
export * from "./extensions.js";
export * from "./public-key.js";
export * from "./signature-algorithm.js";
export * from "./csr.js";
export * from "./csr-builder.js";
export * from "./certificate-builder.js";
export * from "./certificate.js";
export * from "./crl-builder.js";
export * from "./ocsp.js";
