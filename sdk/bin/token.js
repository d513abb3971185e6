"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.Token = void 0;
const pulumi = __importStar(require("@pulumi/pulumi"));
const resource_1 = require("./resource");
/**
 * A JWT for a database or a group. Any change of its inputs mints a new token and revokes the old one;
 * deleting the resource revokes it while the group's other tokens keep working.
 */
class Token extends pulumi.CustomResource {
    static get(name, id, opts) {
        return new Token(name, undefined, { ...opts, id });
    }
    static isInstance(obj) {
        return (0, resource_1.isInstanceOf)(obj, Token.__pulumiType);
    }
    constructor(name, args, opts) {
        super(Token.__pulumiType, name, ...(0, resource_1.registration)(args, ["database", "group", "authorization", "expiration", "attach"], ["jwt", "expiresAt", "jti"], opts, { additionalSecretOutputs: ["jwt"] }));
    }
}
exports.Token = Token;
/** @internal */
Token.__pulumiType = "tenantdb:index:Token";
//# sourceMappingURL=token.js.map