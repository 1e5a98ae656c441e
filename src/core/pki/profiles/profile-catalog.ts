import { DomainError } from "../../shared/domain-error.js";
import type { CertificateProfile } from "./profile.js";

/** Looks profiles up by name; built once from the profile tables in the composition root. */
export class ProfileCatalog {
  private readonly byName: ReadonlyMap<string, CertificateProfile>;

  constructor(profiles: readonly CertificateProfile[]) {
    const map = new Map<string, CertificateProfile>();
    for (const profile of profiles) {
      if (map.has(profile.name)) throw new Error(`duplicate profile ${profile.name}`);
      map.set(profile.name, profile);
    }
    this.byName = map;
  }

  /** The named profile, or `not_found` naming what exists. */
  get(name: string): CertificateProfile {
    const profile = this.byName.get(name);
    if (profile === undefined) {
      throw new DomainError("not_found", `unknown profile ${name} (known: ${[...this.byName.keys()].join(", ")})`, { field: "profile" });
    }
    return profile;
  }

  list(): readonly CertificateProfile[] {
    return [...this.byName.values()];
  }
}
