import { describe, expect, it } from "vitest";
import { DomainError } from "../shared/domain-error.js";
import { validatedResources } from "./encryption-resources.js";

function problem(resources: string[]): string | undefined {
  try {
    validatedResources(resources);
    return undefined;
  } catch (error) {
    if (error instanceof DomainError && error.code === "invalid_input") return error.message;
    throw error;
  }
}

// kube-apiserver's rules for `resources` (reference §3.4, A-valid).
describe("validatedResources", () => {
  it.each([[["secrets"]], [["secrets", "configmaps"]], [["deployments.apps", "*.batch"]], [["*."]], [["*.*"]], [["events", "secrets", "*.apps"]]])("accepts %j", (resources) => {
    expect(problem(resources)).toBeUndefined();
  });

  it.each([
    [[], /at least one/],
    [["Secrets"], /lower case/],
    [["*"], /use '\*\.'/],
    [["secrets."], /is not resource/],
    [["secrets.*"], /is not resource/],
    [["a b"], /is not resource/],
    [["serviceipallocations"], /do not have REST APIs/],
    [["*.events.k8s.io"], /'events' API group/],
    [["deployments.extensions"], /'extensions' group/],
    [["secrets", "secrets"], /listed twice/],
    [["secrets", "*."], /overlap/],
    [["*.*", "deployments.apps"], /overlap/],
    [["deployments.apps", "*.apps"], /overlap/],
    [Array.from({ length: 33 }, (_, i) => `r${i}`), /at most 32/],
  ])("refuses %j", (resources, expected) => {
    expect(problem(resources)).toMatch(expected);
  });
});
