/** What a token allows (the schema's `tenantdb:index:Authorization`). */
export const Authorization = {
  /** Read and write. */
  FullAccess: "full-access",
  /** Read only. */
  ReadOnly: "read-only",
} as const;

export type Authorization = (typeof Authorization)[keyof typeof Authorization];
