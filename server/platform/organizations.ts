import type { Handler } from "../context.js";

/** The one organization a server answers for, and the one location it runs in. */

export const listOrganizations: Handler = (ctx) => ({ json: { organizations: [organizationJson(ctx.org)] } });

export const getOrganization: Handler = (ctx) => ({ json: { organization: organizationJson(ctx.org) } });

/** Groups default to `local`; other codes are accepted as labels, since nothing is replicated. */
export const listLocations: Handler = () => ({ json: { locations: { local: "This machine" } } });

function organizationJson(org: string) {
  return {
    name: org,
    slug: org,
    type: "personal",
    overages: false,
    blocked_reads: false,
    blocked_writes: false,
  };
}
