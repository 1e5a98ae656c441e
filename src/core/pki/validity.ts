/**
 * Certificates start a little in the past so that a relying party whose clock runs slightly
 * behind accepts them at once (Go's signers and kubeadm backdate by 5 minutes).
 */
export const BACKDATE_SECONDS = 5 * 60;

/** notBefore/notAfter for a certificate issued at `now` for `ttlSeconds`. */
export function validityWindow(now: Date, ttlSeconds: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - BACKDATE_SECONDS * 1000),
    notAfter: new Date(now.getTime() + ttlSeconds * 1000),
  };
}

/** Whole seconds between two instants (never negative). */
export function secondsBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
}
