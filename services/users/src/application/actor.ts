/** Who caused a change, as the audit log records it. `userId` null means the system. */
export interface Actor {
  userId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
}

export const SYSTEM_ACTOR: Actor = { userId: null, ipAddress: null, userAgent: null };

export function auditActor(actor: Actor) {
  return { userId: actor.userId, ipAddress: actor.ipAddress, userAgent: actor.userAgent };
}
