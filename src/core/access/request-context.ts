import type { Principal } from "./principal.js";

/** Who is calling and under which request id; passed from the transport into every use case. */
export interface RequestContext {
  readonly principal: Principal;
  readonly requestId?: string;
}
