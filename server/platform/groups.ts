import type { GroupInfo } from "../../engine/index.js";
import type { Handler } from "../context.js";
import { jsonObject } from "../http.js";
import { badRequest } from "../http-errors.js";

/** Groups: `/v1/organizations/:org/groups[/:group]`, shaped like Turso's `BaseGroup`. */

export const createGroup: Handler = async (ctx, req) => {
  const body = await jsonObject(req);
  if (typeof body.name !== "string") throw badRequest('"name" is required: the group\'s name');
  if (body.location !== undefined && typeof body.location !== "string") {
    throw badRequest('"location" must be a location code such as "local" (see GET /v1/locations)');
  }
  const group = ctx.engine.createGroup(body.name, { location: body.location });
  return { json: { group: groupJson(group) } };
};

export const listGroups: Handler = (ctx) => ({ json: { groups: ctx.engine.listGroups().map(groupJson) } });

export const getGroup: Handler = (ctx, req) => ({
  json: { group: groupJson(ctx.engine.getGroup(req.params.group as string)) },
});

export const deleteGroup: Handler = (ctx, req) => {
  const group = ctx.engine.getGroup(req.params.group as string);
  ctx.engine.destroyGroup(group.name);
  return { json: { group: groupJson(group) } };
};

export function groupJson(g: GroupInfo) {
  return {
    name: g.name,
    uuid: g.uuid,
    version: "tenantdb",
    locations: [g.location],
    primary: g.location,
    delete_protection: false,
    archived: false,
  };
}
