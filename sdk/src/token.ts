import * as pulumi from "@pulumi/pulumi";
import type { Authorization } from "./enums";
import { isInstanceOf, registration } from "./resource";

export interface TokenArgs {
  /** The database the token is for (set this or `group`). */
  database?: pulumi.Input<string>;
  /** The group whose every database the token is for (set this or `database`). */
  group?: pulumi.Input<string>;
  /** What the token allows: `Authorization.FullAccess` (`"full-access"`, the default) or `Authorization.ReadOnly`. */
  authorization?: pulumi.Input<Authorization>;
  /** `never` (default) or a duration such as `2w1d30m`. */
  expiration?: pulumi.Input<string>;
  /** Databases a connection with this token may ATTACH (read-only). */
  attach?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Known property values of an existing Token, for `Token.get`. */
export interface TokenState {
  database?: pulumi.Input<string>;
  group?: pulumi.Input<string>;
  authorization?: pulumi.Input<Authorization>;
  expiration?: pulumi.Input<string>;
  attach?: pulumi.Input<pulumi.Input<string>[]>;
  jwt?: pulumi.Input<string>;
  expiresAt?: pulumi.Input<string>;
  jti?: pulumi.Input<string>;
}

/**
 * A JWT for a database or a group. Any change of its inputs mints a new token and revokes the old one;
 * deleting the resource revokes it while the group's other tokens keep working.
 */
export class Token extends pulumi.CustomResource {
  /** @internal */
  public static readonly __pulumiType = "tenantdb:index:Token";

  /**
   * Looks up an existing Token. Its id is its `jti`, but tenantdb keeps no copy of a token, so the
   * provider can only read one back from the token itself: pass the JWT as the id, or as `state.jwt`.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    state?: TokenState,
    opts?: pulumi.CustomResourceOptions,
  ): Token {
    return new Token(name, state as TokenArgs, { ...opts, id });
  }

  public static isInstance(obj: unknown): obj is Token {
    return isInstanceOf(obj, Token.__pulumiType);
  }

  declare readonly database: pulumi.Output<string | undefined>;
  declare readonly group: pulumi.Output<string | undefined>;
  declare readonly authorization: pulumi.Output<Authorization>;
  declare readonly expiration: pulumi.Output<string>;
  declare readonly attach: pulumi.Output<string[]>;
  /** The token itself: a secret. */
  declare readonly jwt: pulumi.Output<string>;
  /** When it expires, as an ISO 8601 UTC timestamp; undefined for a token that never expires. */
  declare readonly expiresAt: pulumi.Output<string | undefined>;
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
