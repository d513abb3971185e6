import * as pulumi from "@pulumi/pulumi";
import { isInstanceOf, registration } from "./resource";

export interface TokenArgs {
  /** The database the token is for (set this or `group`). */
  database?: pulumi.Input<string>;
  /** The group whose every database the token is for (set this or `database`). */
  group?: pulumi.Input<string>;
  /** `full-access` (default) or `read-only`. */
  authorization?: pulumi.Input<"full-access" | "read-only">;
  /** `never` (default) or a duration such as `2w1d30m`. */
  expiration?: pulumi.Input<string>;
  /** Databases a connection with this token may ATTACH (read-only). */
  attach?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A JWT for a database or a group. Any change of its inputs mints a new token and revokes the old one;
 * deleting the resource revokes it while the group's other tokens keep working.
 */
export class Token extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:Token";

  public static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): Token {
    return new Token(name, undefined, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is Token {
    return isInstanceOf(obj, Token.__pulumiType);
  }

  declare readonly database: pulumi.Output<string | undefined>;
  declare readonly group: pulumi.Output<string | undefined>;
  declare readonly authorization: pulumi.Output<string>;
  declare readonly expiration: pulumi.Output<string>;
  declare readonly attach: pulumi.Output<string[]>;
  /** The token itself: a secret. */
  declare readonly jwt: pulumi.Output<string>;
  /** When it expires (Unix seconds), or undefined for never. */
  declare readonly expiresAt: pulumi.Output<number | undefined>;
  /** The token's id, for `tenantdb db tokens revoke`. */
  declare readonly jti: pulumi.Output<string>;

  constructor(name: string, args?: TokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      Token.__pulumiType,
      name,
      ...registration(
        args,
        ["database", "group", "authorization", "expiration", "attach"],
        ["jwt", "expiresAt", "jti"],
        opts,
        { additionalSecretOutputs: ["jwt"] },
      ),
    );
  }
}
