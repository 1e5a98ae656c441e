import { x509 } from "../../../core/pki/index.js";
import { CliError } from "../exit-codes.js";
import { fileProblem, reasonOf } from "./file-problems.js";

// Certificate files of a kubeadm tree: PEM, leaf first, possibly followed by a chain (kubeadm
// loads the first certificate as the leaf, reference/kubernetes.md §1.1).

/** The first certificate of a PEM text; `file` names it in errors. */
export function parseLeaf(text: string, file: string): x509.ParsedCertificate {
  try {
    const [block] = x509.pemDecodeAll(text, "certificate");
    if (block === undefined || block.label !== "CERTIFICATE") throw fileProblem(file, `the first PEM block is "${block?.label ?? "none"}", expected CERTIFICATE`);
    return x509.parseCertificate(block.der);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw fileProblem(file, reasonOf(error));
  }
}
